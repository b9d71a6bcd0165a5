package kvserver_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"ds440/kvserver"
)

// NewFileStore is the KVStore of the contract: each mutation is durable when the call returns.
func ExampleNewFileStore() {
	dir, _ := os.MkdirTemp("", "kvserver-example-")
	defer os.RemoveAll(dir)

	store, err := kvserver.NewFileStore(filepath.Join(dir, "appendonly.log"), kvserver.SyncAlways)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.(io.Closer).Close()
	store.Put("fruit", []byte("apple"))
	fmt.Printf("%s\n", store.Get("fruit"))
	// Output:
	// [apple]
}
