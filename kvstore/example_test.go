package kvstore_test

import (
	"fmt"
	"log"
	"time"

	"ds440/kvstore"
)

// oneAddr routes every call to one query actor.
type oneAddr string

func (a oneAddr) NextAddr() string { return string(a) }

// Two servers, as two data centers: a Put on one is read on the other once the background
// sync has carried it over.
func Example() {
	east, desc, err := kvstore.NewServer(0, 2, nil) // port 0: free ports
	if err != nil {
		log.Fatal(err)
	}
	defer east.Close()
	west, _, err := kvstore.NewServer(0, 2, []string{desc}) // joins east
	if err != nil {
		log.Fatal(err)
	}
	defer west.Close()

	writer := kvstore.NewClient(oneAddr(east.QueryAddrs()[0]))
	defer writer.Close()
	reader := kvstore.NewClient(oneAddr(west.QueryAddrs()[1]))
	defer reader.Close()

	if err := writer.Put("city", "Pittsburgh"); err != nil {
		log.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if v, ok, err := reader.Get("city"); err == nil && ok {
			fmt.Println("west reads", v)
			return
		}
		time.Sleep(10 * time.Millisecond) // real time: polling the far server over TCP until the sync has carried the Put
	}
	fmt.Println("not replicated")
	// Output: west reads Pittsburgh
}
