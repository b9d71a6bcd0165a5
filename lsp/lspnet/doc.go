// Package lspnet is the only way package lsp reaches the network: drop-in wrappers for the
// parts of net that LSP uses (UDP sockets and addresses), plus fault controls that make every
// socket of the process lose, delay, reorder and damage datagrams, and a tap that lets tests
// see every datagram on the wire.
//
// Sockets opened with ListenUDP are the server side and sockets from DialUDP the client side;
// the drop controls act per side and direction (SetClientReadDropPercent and so on). The
// damage controls act on written LSP data messages: SetMsgShorteningPercent cuts payloads
// short of their Size, SetMsgLengtheningPercent pads them past it, SetMsgCorruptingPercent
// flips a payload bit under an unchanged checksum. SetDelayMessagePercent with
// SetMaxDelayMillis holds datagrams back so that they arrive late and out of order.
//
// The controls are process-wide, so tests that set them must not run in parallel with other
// network tests of their package, and should call ResetDropPercent in a Cleanup. With every
// control at zero and no tap, a datagram costs two atomic loads on top of the system call.
//
// For tests, SetTap shows every datagram written or read (after the controls decided its
// fate), ParseFrame decodes one, and Watch runs a Monitor that checks from the wire alone that
// no sender exceeds its window or its cap on unacked messages.
package lspnet
