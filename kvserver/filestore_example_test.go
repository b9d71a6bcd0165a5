package kvserver_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"ds440/kvserver"
)

// A FileStore survives a restart: reopening replays its log. Mutations are visible at once
// and durable once committed.
func ExampleOpenFileStore() {
	dir, _ := os.MkdirTemp("", "kvserver-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "appendonly.log")

	store, err := kvserver.OpenFileStore(path, kvserver.SyncAlways, kvserver.FileStoreOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	store.Put("fruit", []byte("apple"))
	store.Put("fruit", []byte("pear"))
	store.Update("fruit", []byte("pear"), []byte("plum"))
	if err := store.Commit(); err != nil { // one write and one fsync for the three
		fmt.Println(err)
	}
	store.Close()

	reopened, err := kvserver.OpenFileStore(path, kvserver.SyncAlways, kvserver.FileStoreOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reopened.Close()
	for _, v := range reopened.Get("fruit") {
		fmt.Println(string(v))
	}
	fmt.Println("records replayed:", reopened.Recovery().Records)
	// Output:
	// apple
	// plum
	// records replayed: 3
}

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
