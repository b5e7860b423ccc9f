package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/minicloud/minicloud/internal/logport"
	"github.com/minicloud/minicloud/internal/service/rds/engine"
	"github.com/minicloud/minicloud/internal/service/rds/records"
)

// Log exports (EnabledCloudwatchLogsExports): while an instance's server
// runs, every log type it exports whose file the engine names
// (engine.LogExports) is tailed every logTailEvery, and each entry is
// written through logport.Writer to group /aws/rds/instance/<id>/<type>,
// stream <id>, as RDS names them. An entry is a line with the lines after
// it that begin with white space (PostgreSQL's continuation lines); a line
// not yet ended waits for its end. How far each file was exported is kept
// beside it (<dir>/logexports/<type>.offset) once the Writer took the
// entries, so a restart of minicloud loses no line; delivery is at least
// once — entries written just before minicloud stopped, or before a
// later batch of the same read failed, are exported again. A
// log exported for the first time is exported from its beginning (the
// instance's first line), and one turned off and on again resumes where
// it stopped. A file that shrank was started anew: it is read from 0.
// An entry's time is its PostgreSQL timestamp (log_line_prefix's %m)
// when it has one, else when it was read.

// logTailEvery is how often the exported logs are read.
const logTailEvery = time.Second

// Limits of one write, within PutLogEvents' (10,000 events, 1 MiB).
const (
	maxReadBytes   = 512 << 10
	maxBatchEvents = 1000
)

// logExporter holds the tailers of the exported logs.
type logExporter struct {
	mu      sync.Mutex
	tailers map[string]*tailer // by record key + "/" + log type
}

// startLogExports starts the exports, when the controller has a Writer.
func (c *Controller) startLogExports() {
	if c.cfg.Logs == nil {
		return
	}
	c.wg.Go(func() { c.every(logTailEvery, func() { c.exportLogs(c.ctx) }) })
}

// exportLogs reads every exported log of every running server once.
func (c *Controller) exportLogs(ctx context.Context) {
	c.mu.Lock()
	keys := make([]string, 0, len(c.servers))
	for k, p := range c.servers {
		if p.running() {
			keys = append(keys, k)
		}
	}
	c.mu.Unlock()
	want := map[string]bool{}
	for _, key := range keys {
		sc, id, ok := records.Instances.ParseKey(key)
		if !ok {
			continue
		}
		rec, found, err := c.get(sc, id)
		if err != nil || !found || len(rec.EnabledCloudwatchLogsExports) == 0 {
			continue
		}
		le, ok := c.engineFor(deref(rec.Engine)).(engine.LogExports)
		if !ok {
			continue
		}
		dir, err := c.dir(sc, id)
		if err != nil {
			continue
		}
		for _, typ := range rec.EnabledCloudwatchLogsExports {
			file := le.LogFile(dir, typ)
			if file == "" {
				continue
			}
			tk := key + "/" + typ
			want[tk] = true
			t := c.logs.tailer(tk, file, filepath.Join(dir, "logexports", typ+".offset"))
			group := "/aws/rds/instance/" + id + "/" + typ
			if err := t.export(ctx, time.Now(), func(events []logport.Event) error {
				return c.cfg.Logs.Write(ctx, sc.Account, sc.Region, group, id, events)
			}); err != nil && ctx.Err() == nil {
				c.log.Warn("rds: export log", "id", id, "log", typ, "err", err)
			}
		}
	}
	c.logs.forget(want)
}

// tailer is the key's tailer of file, made on first use.
func (x *logExporter) tailer(key, file, offsetFile string) *tailer {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.tailers == nil {
		x.tailers = map[string]*tailer{}
	}
	t := x.tailers[key]
	if t == nil || t.path != file {
		t = newTailer(file, offsetFile)
		x.tailers[key] = t
	}
	return t
}

// forget drops the tailers of logs no longer exported or running.
func (x *logExporter) forget(keep map[string]bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for k := range x.tailers {
		if !keep[k] {
			delete(x.tailers, k)
		}
	}
}

// tailer follows one log file from the offset its offset file keeps.
type tailer struct {
	path, offsetFile string
	offset           int64 // of the first byte not yet exported
}

func newTailer(path, offsetFile string) *tailer {
	t := &tailer{path: path, offsetFile: offsetFile}
	if b, err := os.ReadFile(offsetFile); err == nil {
		t.offset, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	}
	return t
}

// export reads what the file gained and hands its complete entries to
// write, in batches; the offset moves past what write took.
func (t *tailer) export(ctx context.Context, now time.Time, write func([]logport.Event) error) error {
	for ctx.Err() == nil {
		events, next, err := t.read(now)
		if err != nil || len(events) == 0 {
			return err
		}
		for b := range slices.Chunk(events, maxBatchEvents) {
			if err := write(b); err != nil {
				return err
			}
		}
		if err := t.commit(next); err != nil {
			return err
		}
	}
	return nil
}

// read returns the complete entries after the offset (at most
// maxReadBytes of them, unless one entry is longer) and the offset after
// them.
func (t *tailer) read(now time.Time) ([]logport.Event, int64, error) {
	f, err := os.Open(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, t.offset, nil // not written yet
	}
	if err != nil {
		return nil, t.offset, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, t.offset, err
	}
	if st.Size() < t.offset { // started anew
		t.offset = 0
	}
	if st.Size() == t.offset {
		return nil, t.offset, nil
	}
	buf := make([]byte, min(st.Size()-t.offset, maxReadBytes))
	n, err := f.ReadAt(buf, t.offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, t.offset, fmt.Errorf("read %s: %w", t.path, err)
	}
	entries, used := splitEntries(string(buf[:n]), t.offset+int64(n) == st.Size())
	if used == 0 && n == len(buf) && int64(n) == maxReadBytes {
		// One entry longer than a read: export what there is of it.
		entries, used = []string{string(buf[:n])}, n
	}
	events := make([]logport.Event, len(entries))
	for i, e := range entries {
		events[i] = logport.Event{Time: entryTime(e, now), Message: e}
	}
	return events, t.offset + int64(used), nil
}

// commit records that the file was exported up to offset.
func (t *tailer) commit(offset int64) error {
	if offset == t.offset {
		return nil
	}
	t.offset = offset
	if err := os.MkdirAll(filepath.Dir(t.offsetFile), 0o700); err != nil {
		return err
	}
	tmp := t.offsetFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(offset, 10)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, t.offsetFile)
}

// splitEntries splits s into entries and returns how many bytes of s they
// take. An entry ends at a newline not followed by a line beginning with
// white space; the last entry is complete only once a line that does not
// continue it begins (or, when atEnd, at its newline: the log's writer
// writes an entry at once, so one whose newline ends the file is whole).
func splitEntries(s string, atEnd bool) (entries []string, used int) {
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '\n' {
			continue
		}
		next := i + 1
		if next == len(s) {
			if atEnd {
				entries = append(entries, s[start:i])
				start = next
			}
			break
		}
		if s[next] == ' ' || s[next] == '\t' {
			continue // a continuation line
		}
		entries = append(entries, s[start:i])
		start = next
	}
	return entries, start
}

// entryTime is when a PostgreSQL log entry was logged ("2026-07-12
// 16:00:00.123 UTC …", log_line_prefix %m), else now.
func entryTime(e string, now time.Time) time.Time {
	const layout = "2006-01-02 15:04:05.000 MST"
	if len(e) >= len(layout) {
		if t, err := time.Parse(layout, e[:len(layout)]); err == nil && t.Location() == time.UTC {
			return t
		}
	}
	return now
}
