package durable_test

import (
	"fmt"
	"path/filepath"

	"ds440/internal/durable"
)

func Example() {
	// A MemFS keeps the example self-contained; leave FS nil for the real file system.
	path := filepath.Join("/data", "log")
	opts := durable.Options{Magic: "example\x01", Sync: durable.SyncAlways, FS: durable.NewMemFS()}

	l, err := durable.Open(path, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	l.Append([]byte("first"))
	l.Append([]byte("second"))
	if err := l.Commit(); err != nil { // one write, one fsync for both
		fmt.Println(err)
	}
	l.Close()

	l, _ = durable.Open(path, opts)
	defer l.Close()
	for p, err := range l.Records() {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(string(p))
	}
	// Output:
	// first
	// second
}
