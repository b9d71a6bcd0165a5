package kvserver_test

import (
	"fmt"
	"os"
	"path/filepath"

	"ds440/kvserver"
)

// A FileStore survives a restart: reopening replays its log.
func ExampleNewFileStore() {
	dir, _ := os.MkdirTemp("", "kvserver-example-")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "appendonly.log")

	store, err := kvserver.NewFileStore(path, kvserver.SyncAlways)
	if err != nil {
		fmt.Println(err)
		return
	}
	store.Put("fruit", []byte("apple"))
	store.Put("fruit", []byte("pear"))
	store.Update("fruit", []byte("pear"), []byte("plum"))
	store.(*kvserver.FileStore).Close()

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
