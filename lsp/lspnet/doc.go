// Package lspnet is the only way package lsp reaches the network: drop-in wrappers for the
// parts of net that LSP uses (UDP sockets and addresses), plus fault controls that make
// sockets lose, delay, reorder and damage datagrams, a tap that lets tests see every datagram
// on the wire, and sniff counters.
//
// Faults belong to a Network. NewNetwork opens the operating system's UDP sockets under a
// fault set of its own; NewMemNetwork opens in-memory sockets that only reach each other and
// block only on channels, so that code over them runs under testing/synctest. A test that opens
// its sockets from its own Network (and hands its DialUDP or ListenUDP to lsp through lsp's
// options) owns its faults and runs in parallel with others.
//
// The package-level functions are the course's names with the course's meaning, acting on the
// process-wide default set that the package-level ListenUDP and DialUDP use: drop controls per
// side and direction (SetClientReadDropPercent and so on, SetReadDropPercent and
// SetWriteDropPercent for both sides), damage to written LSP data messages
// (SetMsgShorteningPercent cuts payloads short of their Size, SetMsgLengtheningPercent pads
// them past it, SetMsgCorrupted and SetMsgCorruptingPercent flip a payload bit under an
// unchanged checksum), SetDelayMessagePercent (a fixed 500 ms, or random up to
// SetMaxDelayMillis), ResetDropPercent (the drop rates only) and ResetFaults (everything),
// StartSniff and StopSniff. With every control at zero and no tap or sniffer, a datagram costs
// two atomic loads on top of the system call.
//
// Beside the course's surface, a UDPConn moves many datagrams per system call: ReadBatch and
// WriteBatch (recvmmsg and sendmmsg on Linux, one datagram per call elsewhere). WriteBatch sends
// each run of equal-sized datagrams to one address as one UDP GSO message, and a socket on
// which EnableGRO was called takes such runs whole and has ReadBatch cut them apart. Each
// datagram stays its own on the wire, and the fault controls still act on each one. On a
// Pollable socket (the operating system's, on Linux) ReadBatchNow reads without waiting, and
// SetReadDeadline ends a ReadBatch already waiting, so that one goroutine can own a socket and
// still be woken for other work.
//
// For tests, SetTap shows every datagram written or read (after the controls decided its
// fate), ParseFrame decodes one, and Watch runs a Monitor that checks from the wire alone that
// no sender exceeds its window or its cap on unacked messages.
package lspnet
