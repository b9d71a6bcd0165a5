package main

import (
	"bytes"
	"math/rand/v2"
	"strconv"
)

// proto is the wire protocol kvbench speaks.
type proto int

const (
	protoText  proto = iota // kvserver's line protocol: Get / Delete + Put
	protoRedis              // RESP2: GET / SET, which Redis and kvserver both answer
)

// workload generates the requests of one client: a seeded, reproducible mix of gets and sets
// over a key space, so that two servers driven with the same seed see the very same load.
type workload struct {
	rng     *rand.Rand
	getFrac float64
	keys    int
	value   []byte
	key     []byte // scratch for the key being encoded
}

// newWorkload returns the workload of client number client under seed.
func newWorkload(seed uint64, client int, getFrac float64, keys, valueSize int) *workload {
	return &workload{
		rng:     rand.New(rand.NewPCG(seed, uint64(client))),
		getFrac: getFrac,
		keys:    keys,
		value:   bytes.Repeat([]byte("x"), valueSize),
	}
}

// next returns whether the next operation is a get, and its key index.
func (w *workload) next() (get bool, key int) {
	return w.rng.Float64() < w.getFrac, w.rng.IntN(w.keys)
}

// keyName appends the name of key index i under protocol p to dst. Over RESP it is the name
// redis-benchmark -r gives its random keys, "key:" and 12 digits, so that kvbench and
// redis-benchmark make a server do the same work; text keys have no ':', which the text
// protocol reserves as its field separator.
func keyName(dst []byte, p proto, i int) []byte {
	if p == protoText {
		return strconv.AppendInt(append(dst, "key-"...), int64(i), 10)
	}
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(i), 10)
	dst = append(dst, "key:"...)
	for range 12 - len(d) {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}

// appendOp appends the request for one operation to dst.
//
// Over the text protocol a set is Delete then Put, so every key keeps exactly one value as
// with Redis's SET, and lists never grow into ever slower Gets.
func appendOp(dst []byte, p proto, get bool, key, value []byte) []byte {
	switch {
	case p == protoRedis && get:
		dst = append(dst, "*2\r\n$3\r\nGET\r\n"...)
		return appendBulk(dst, key)
	case p == protoRedis:
		dst = append(dst, "*3\r\n$3\r\nSET\r\n"...)
		return appendBulk(appendBulk(dst, key), value)
	case get:
		return append(append(append(dst, "Get:"...), key...), '\n')
	default:
		dst = append(append(append(dst, "Delete:"...), key...), '\n')
		dst = append(append(append(dst, "Put:"...), key...), ':')
		return append(append(dst, value...), '\n')
	}
}

// appendBulk appends b as a RESP bulk string.
func appendBulk(dst, b []byte) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(b)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, b...)
	return append(dst, "\r\n"...)
}

// fenceKey is the key whose Get ends every text-protocol batch. Text Put and Delete have no
// reply and a Get of a missing key has none either, so kvbench cannot otherwise tell when a
// batch is done; the fence key holds exactly one value, so its one reply line marks the end.
func fenceKey(client int) []byte {
	return strconv.AppendInt([]byte("kvbench-fence-"), int64(client), 10)
}

// appendFenceSetup appends the requests that give client's fence key its single value.
func appendFenceSetup(dst []byte, client int) []byte {
	k := fenceKey(client)
	dst = append(append(append(dst, "Delete:"...), k...), '\n')
	return append(append(append(dst, "Put:"...), k...), ":fence\n"...)
}

// appendFence appends the Get that ends a text-protocol batch.
func appendFence(dst []byte, client int) []byte {
	return append(append(append(dst, "Get:"...), fenceKey(client)...), '\n')
}
