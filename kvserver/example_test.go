package kvserver_test

import (
	"bufio"
	"fmt"
	"net"

	"ds440/kvserver"
)

// A server on a free port, a client that stores two values under one key over the text
// protocol and reads them back, and the same key read over RESP.
func Example() {
	srv := kvserver.New(kvserver.NewMemoryStore())
	if err := srv.Start(0); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	fmt.Fprint(conn, "Put:fruit:apple\nPut:fruit:pear\nGet:fruit\n")
	r := bufio.NewReader(conn)
	for range 2 {
		line, _ := r.ReadString('\n')
		fmt.Print(line)
	}

	redis, err := net.Dial("tcp", srv.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer redis.Close()
	fmt.Fprint(redis, "*2\r\n$3\r\nGET\r\n$5\r\nfruit\r\n") // GET fruit: the last value
	rr := bufio.NewReader(redis)
	header, _ := rr.ReadString('\n')
	value, _ := rr.ReadString('\n')
	fmt.Printf("%q %q\n", header, value)
	// Output:
	// fruit:apple
	// fruit:pear
	// "$4\r\n" "pear\r\n"
}
