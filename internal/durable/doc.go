// Package durable is ds440's append-only log: checksummed, length-prefixed records in one file,
// with group commit, a choice of fsync policy, recovery that tells a torn tail from damage, an
// atomic rewrite that runs beside its owner, and a file-system seam at which tests crash it.
//
// # Format
//
// A log is a header (Options.Magic, chosen by the user) followed by records, each a little
// endian uint32 payload length, a uint32 CRC-32C of the length bytes and the payload, and the
// payload. The package never interprets payloads; Options.Check lets the user reject a
// checksummed payload that does not decode, so it counts as damage.
//
// # Recovery
//
// Open reads every record. If a bad record has no intact record after it, the log merely ends
// in a torn write, as a crash in the middle of an append leaves: that tail is cut and its
// bytes kept beside the log (FILE.torn-OFFSET), and Recovery says so. If intact records follow
// a bad one, data once written whole lies beyond the damage: Open refuses with a
// *DamageError and leaves the file alone; Check reports where the damage is and Repair writes
// a copy without it.
//
// # Writing
//
// Append buffers a record; Commit writes every buffered record with one write and, under
// SyncAlways, one fsync. A failed Commit returns its error and cuts what it wrote, so the file
// holds exactly the committed records; nothing is sticky, the next Commit tries again. Under
// SyncInterval a goroutine owned by the Log fsyncs in the background and a failure is
// returned by the next Commit (ErrBackgroundSync).
//
// WriteFile replaces a small file atomically (temporary file, fsync, rename, fsync of the
// directory); Rewrite does the same for a whole log while its owner keeps appending.
//
// # Testing
//
// All file access goes through FS. MemFS numbers every write, fsync, truncate, rename and
// directory fsync, fails or "crashes" at a chosen one, and Restart shows what a new process
// (or, after a power cut, the disk) holds, so a test can cut at every point in turn.
package durable
