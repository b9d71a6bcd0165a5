package labrpc_test

import (
	"fmt"

	"ds440/labrpc"
)

// Counter is a service: its exported methods of the form M(args *A, reply *R) are handlers.
type Counter struct{ total int }

// AddArgs carries the amount to add.
type AddArgs struct{ N int }

// AddReply carries the new total.
type AddReply struct{ Total int }

// Add adds args.N to the counter.
func (c *Counter) Add(args *AddArgs, reply *AddReply) {
	c.total += args.N
	reply.Total = c.total
}

func Example() {
	net := labrpc.MakeNetwork()
	defer net.Cleanup()

	srv := labrpc.MakeServer()
	srv.AddService(labrpc.MakeService(&Counter{}))
	net.AddServer("counter", srv)

	end := net.MakeEnd("client")
	net.Connect("client", "counter")
	net.Enable("client", true)

	var reply AddReply
	ok := end.Call("Counter.Add", &AddArgs{N: 5}, &reply)
	fmt.Println(ok, reply.Total)

	net.Enable("client", false) // cut the client off: the call is lost
	fmt.Println(end.Call("Counter.Add", &AddArgs{N: 1}, &AddReply{}))
	fmt.Println(net.GetCount("counter"), "RPC delivered,", net.GetTotalCount(), "sent")
	// Output:
	// true 5
	// false
	// 1 RPC delivered, 2 sent
}
