package lspflag

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, args ...string) (*Flags, error) {
	t.Helper()
	var f Flags
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return &f, nil
}

func TestParams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args               []string
		millis, limit, win int
		err                string
	}{
		{nil, int(DefaultEpoch / time.Millisecond), DefaultEpochLimit, DefaultWindow, ""},
		{[]string{"-epoch", "50ms", "-epoch-limit", "3", "-window", "4"}, 50, 3, 4, ""},
		{[]string{"-epoch", "50ms", "-epoch-ms", "70"}, 70, DefaultEpochLimit, DefaultWindow, ""},
		{[]string{"-epoch", "500us"}, 0, 0, 0, "at least 1ms"},
		{[]string{"-epoch", "-1s"}, 0, 0, 0, "must not be negative"},
		{[]string{"-epoch-limit", "0"}, 0, 0, 0, "-epoch-limit must be at least 1"},
		{[]string{"-window", "0"}, 0, 0, 0, "-window must be at least 1"},
	} {
		f, err := parse(t, tc.args...)
		if err == nil {
			params, perr := f.Params()
			err = perr
			if err == nil && (params.EpochMillis != tc.millis || params.EpochLimit != tc.limit || params.WindowSize != tc.win) {
				t.Errorf("%q: params %+v", tc.args, params)
			}
		}
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
		}
	}
}
