package testutil

import "runtime"

// LiveHeap returns the bytes of reachable heap objects, after a collection: what a test that
// bounds a structure's memory compares before and after building it. The figure covers the
// whole process, so such a test must not run in parallel with others.
func LiveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
