// Package rawio holds the few Linux system calls that kvserver's event loop and kvbench's
// event-driven load generator make on non-blocking sockets they own: read, write and epoll_wait,
// made as raw system calls where they cannot block (the runtime is not told, which saves its
// system-call bookkeeping) and as an ordinary system call where the caller means to wait; and
// an io_uring (Ring), through which one system call sends to, or receives from, many sockets.
// On other platforms the package is empty: both callers take their portable paths there.
package rawio
