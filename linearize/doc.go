// Package linearize checks whether a concurrent history of operations is linearizable: whether
// every operation can be given a single instant between its call and its return such that the
// operations, taken in that order, are what a sequential object (the Model) would answer.
//
// A history is what clients of a system under test record: per operation, the client, the
// input, the output, and the times the call was sent and the answer seen. An operation whose
// answer never came (a timeout) is marked Unknown: it may have taken effect at any time after
// its call, or never.
//
// The search is Wing and Gong's, with Lowe's memoization, as in Porcupine (Athalye, used by
// MIT 6.5840): walk the events in time order, linearize the first pending call the model
// accepts, backtrack when an operation's return is reached before it was linearized, and never
// explore the same (set of linearized operations, model state) twice. Models that split into
// independent parts (a key/value map, per key) check each part alone, which keeps the search
// small. Check takes a context as its time budget and answers Unknown when it runs out.
//
// When a history is not linearizable, the Counterexample names the longest linearizable prefix
// found and the operations none of which can come next, and WriteHTML draws it as a
// self-contained HTML page with an SVG timeline.
//
// Two models are built in: RegisterModel (read, write, compare-and-set on one string) and
// KVModel (the same per key of a map whose keys start absent, partitioned per key). Others
// are plain Model values. WriteKVHistory and ReadKVHistory keep a key/value history as JSON
// Lines, and the lincheck command (ds440/linearize/cmd/lincheck) checks such a file.
//
// The search is exponential in the number of operations that overlap in time on one partition
// (it is NP-complete in general): a few clients per key check in milliseconds, a few dozen
// concurrent operations on one register may not finish. Partition where the model allows it.
package linearize
