package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"

	"ds440/kvserver"
	"ds440/kvserver/filestore"
)

// The -aof and -fsync flags make the store durable with kvserver/filestore's append-only log, named after
// Redis's appendonly and appendfsync settings.
func init() { storeFlags, toolFlags = aofFlags, aofToolFlags }

// aofToolFlags registers -aof-check and -aof-repair, which inspect (and, only when asked,
// repair) an append-only log that the server refused to open, as redis-check-aof does.
func aofToolFlags(fs *flag.FlagSet) func(io.Writer) (int, bool) {
	check := fs.String("aof-check", "", "report the intact records and damaged stretches of the append-only log `file`, without changing it, and exit (1 if damaged)")
	repair := fs.String("aof-repair", "", "like -aof-check, and write a log of `file`'s intact records to file.repaired (the original is kept)")
	return func(out io.Writer) (int, bool) {
		switch {
		case *repair != "":
			return aofRepair(out, *repair), true
		case *check != "":
			return aofCheck(out, *check), true
		}
		return 0, false
	}
}

// aofCheck prints what filestore.Check finds in path; the exit code is 0 for an intact log,
// 1 for a damaged or unreadable one.
func aofCheck(out io.Writer, path string) int {
	rep, err := filestore.Check(path)
	if err != nil {
		fmt.Fprintf(out, "kvserver: %v\n", err)
		return 1
	}
	printReport(out, path, rep)
	if rep.Intact() {
		return 0
	}
	fmt.Fprintf(out, "kvserver -aof-repair %s writes its intact records to %s.repaired\n", path, path)
	return 1
}

// aofRepair writes path.repaired and prints what it kept and left out.
func aofRepair(out io.Writer, path string) int {
	dst := path + ".repaired"
	rep, err := filestore.Repair(path, dst)
	if err != nil {
		fmt.Fprintf(out, "kvserver: %v\n", err)
		return 1
	}
	printReport(out, path, rep)
	fmt.Fprintf(out, "wrote %s: %d intact records; %s is unchanged. Check it, then move it over %s or start with -aof %s\n",
		dst, rep.Records, path, path, dst)
	return 0
}

func printReport(out io.Writer, path string, rep filestore.Report) {
	fmt.Fprintf(out, "%s: %d bytes, %d intact records (%d bytes of payload)\n", path, rep.Size, rep.Records, rep.Bytes)
	for _, d := range rep.Damage {
		fmt.Fprintf(out, "  damaged: offset %d, %d bytes: %v\n", d.Offset, d.Length, d.Reason)
	}
	if rep.Tail.Length > 0 {
		fmt.Fprintf(out, "  torn tail: offset %d, %d bytes: %v (opening the log cuts it and keeps it beside the log)\n",
			rep.Tail.Offset, rep.Tail.Length, rep.Tail.Reason)
	}
	if rep.Intact() {
		fmt.Fprintln(out, "  intact")
	}
}

// aofFlags registers -aof and -fsync on fs and returns the function that opens the chosen store.
func aofFlags(fs *flag.FlagSet) func(*slog.Logger) (kvserver.KVStore, error) {
	aof := fs.String("aof", "", "append-only log `file` that makes the store durable; empty keeps it in memory only")
	fsync := "everysec"
	fs.Func("fsync", "when the -aof log is fsynced, `policy` always (before a write is answered) or everysec (once a second; the default)", func(s string) error {
		if _, err := filestore.ParseSyncPolicy(s); err != nil {
			return err
		}
		fsync = s
		return nil
	})
	return func(log *slog.Logger) (kvserver.KVStore, error) {
		store, _, err := openStoreWithLog(*aof, fsync, log)
		return store, err
	}
}

// openStore returns the store the -aof and -fsync flags describe, and the function that closes
// it: the in-memory store when aof is empty, otherwise a FileStore on that file with the given
// fsync policy ("always" or "everysec").
func openStore(aof, fsync string) (kvserver.KVStore, func() error, error) {
	return openStoreWithLog(aof, fsync, slog.Default())
}

func openStoreWithLog(aof, fsync string, log *slog.Logger) (kvserver.KVStore, func() error, error) {
	if aof == "" {
		return kvserver.NewMemoryStore(), func() error { return nil }, nil
	}
	policy, err := filestore.ParseSyncPolicy(fsync)
	if err != nil {
		return nil, nil, err
	}
	// The server commits once per round before it answers; a round whose Commit fails is
	// rolled back in the store and its clients are dropped unanswered, so nothing unlogged is
	// ever acknowledged, and the server goes on (the next round tries the disk again).
	store, err := kvserver.OpenFileStore(aof, policy, kvserver.FileStoreOptions{Logger: log})
	if err != nil {
		return nil, nil, err
	}
	return store, store.Close, nil
}
