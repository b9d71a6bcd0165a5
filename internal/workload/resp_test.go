package workload

import (
	"bufio"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want any
		err  error
	}{
		{"+OK\r\n", "OK", nil},
		{":42\r\n", int64(42), nil},
		{"$5\r\nhello\r\n", "hello", nil},
		{"$-1\r\n", nil, nil},
		{"*2\r\n$1\r\na\r\n:3\r\n", []any{"a", int64(3)}, nil},
		{"-ERR nope\r\n", nil, ErrReply},
	} {
		got, err := readReply(bufio.NewReader(strings.NewReader(tc.in)))
		if !errors.Is(err, tc.err) || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("readReply(%q) = %#v, %v; want %#v, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	for _, bad := range []string{"", "+OK\n", "$x\r\n", "$5\r\nhi\r\n", "*-5\r\n", "?\r\n", "*2\r\n:1\r\n"} {
		if _, err := readReply(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("readReply(%q) accepted a malformed reply", bad)
		}
	}
}
