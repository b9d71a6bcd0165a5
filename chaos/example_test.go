package chaos_test

import (
	"bufio"
	"fmt"
	"io"
	"net"

	"ds440/chaos"
)

// A Link sits between a client and a server: traffic passes until a fault is set, and a cut
// resets the connections it carries.
func ExampleLink() {
	server, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer server.Close()
	go func() { // an echo server
		for {
			c, err := server.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()

	link, err := chaos.NewLink(server.Addr().String(), 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer link.Close()
	conn, err := net.Dial("tcp", link.Addr()) // dial the link instead of the server
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	fmt.Fprintln(conn, "hello")
	line, _ := r.ReadString('\n')
	fmt.Print("echoed: ", line)

	link.SetFault(chaos.Fault{Cut: true})
	fmt.Fprintln(conn, "anyone there?")
	_, err = r.ReadString('\n')
	fmt.Println("after the cut the read fails:", err != nil)
	// Output:
	// echoed: hello
	// after the cut the read fails: true
}
