package filestore_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"ds440/kvserver/filestore"
)

// A FileStore survives a restart: reopening replays its log. Mutations are visible at once
// and durable once committed; each call says whether it worked, and after Close every
// mutation fails with ErrClosed.
func Example() {
	dir, _ := os.MkdirTemp("", "filestore-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "appendonly.log")

	store, err := filestore.Open(path, filestore.SyncAlways, filestore.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = errors.Join(
		store.Put("fruit", []byte("apple")),
		store.Put("fruit", []byte("pear")),
		store.Update("fruit", []byte("pear"), []byte("plum")),
	)
	if err == nil {
		err = store.Commit() // one write and one fsync for the three; rolled back if it fails
	}
	if err != nil {
		fmt.Println("not stored:", err)
		return
	}
	store.Close()
	fmt.Println("after Close:", store.Put("fruit", []byte("fig")))

	reopened, err := filestore.Open(path, filestore.SyncAlways, filestore.Options{})
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
	// after Close: filestore: store closed
	// apple
	// plum
	// records replayed: 3
}

// Check reads a log without changing it and says whether it is intact.
func ExampleCheck() {
	dir, _ := os.MkdirTemp("", "filestore-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "appendonly.log")

	store, err := filestore.Open(path, filestore.SyncAlways, filestore.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := store.Put("k", []byte("v")); err != nil {
		fmt.Println(err)
	}
	store.Close() // commits what is left

	rep, err := filestore.Check(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("records:", rep.Records, "intact:", rep.Intact())
	// Output:
	// records: 1 intact: true
}
