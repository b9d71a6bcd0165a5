// Package labrpc is a simulated RPC network for testing distributed services inside one
// process, in the spirit of MIT 6.5840's labrpc.
//
// A test makes a Network, gives each client a ClientEnd with MakeEnd, registers each service's
// handlers on a Server with MakeService and AddServer, and wires ends to servers with Connect
// and Enable. Every Call copies its arguments and reply through encoding/gob, as a real wire
// would, so a service cannot share memory with its callers by accident. The gob streams are
// pooled like persistent connections, so a call costs microseconds, not the price of a new
// encoder and decoder. The test then breaks the network on purpose:
//
//   - Enable(end, false) cuts an end off, which is how partitions are made; DeleteServer kills a
//     server. Calls in flight to a server that becomes unreachable are lost.
//   - Reliable(false) delays each request a little and loses about one request and one reply
//     in ten.
//   - LongReordering(true) holds about two replies in three back for 200 ms to a few seconds.
//   - LongDelays(true) makes calls to unreachable servers take up to 7 s to fail.
//
// A Call never hangs: it returns true with the reply filled in, or false when the message was
// lost, after a delay like a real timeout. CallContext also gives up as soon as its context
// ends, so a caller shutting down need not wait out those delays. GetCount, GetTotalCount and GetTotalBytes let tests
// bound the traffic a protocol generates.
//
// The network also checks how services use the wire. Struct fields with lower-case names are
// dropped by gob without an error, and decoding a reply into a variable that already holds data
// leaves stale fields behind; the network records each such problem once, and Warnings returns
// them so a harness can fail the test. CheckType runs the same field check on any value, such
// as the state a service persists.
//
// The network starts no goroutine of its own: a call runs on its caller's goroutine plus one for
// the handler. Cleanup makes every pending call return false and waits for running handlers,
// so a test ends with nothing left behind.
package labrpc
