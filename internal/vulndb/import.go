package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// maxEntries bounds the records of one import (OSV's largest export, Debian,
// has under 100,000).
const maxEntries = 2_000_000

// ImportOptions tune an import.
type ImportOptions struct {
	// Source names the source. Empty means: the directory name of an
	// <Ecosystem>/all.zip, else the base ecosystem most records name.
	Source string
	// Origin is recorded as where the data came from (default: the path).
	Origin             string
	ETag, LastModified string
	// Progress, when set, is told how far the import is.
	Progress Progress
	// Now is the import time (default time.Now).
	Now time.Time
	// Workers parse records in parallel (default GOMAXPROCS).
	Workers int
}

// ImportResult reports one imported source.
type ImportResult struct {
	Info     SourceInfo
	Warnings []string
	Duration time.Duration
}

// Import installs OSV data from path into the database directory dir. path
// is an OSV export zip (<Ecosystem>/all.zip), a directory holding such
// exports in <Ecosystem>/all.zip (each becomes a source), or a directory of
// OSV JSON records. Each source is built beside the installed one and swapped
// in only when complete.
func Import(ctx context.Context, dir, path string, o ImportOptions) ([]ImportResult, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("importing advisories: %w", err)
	}
	if fi.IsDir() {
		zips, _ := filepath.Glob(filepath.Join(path, "*", "all.zip"))
		sort.Strings(zips)
		if len(zips) > 0 {
			if o.Source != "" {
				return nil, fmt.Errorf("%s holds several exports (%d <Ecosystem>/all.zip); import one of them to name its source", path, len(zips))
			}
			var out []ImportResult
			for _, z := range zips {
				r, err := importOne(ctx, dir, z, o)
				if err != nil {
					return out, err
				}
				out = append(out, r)
			}
			return out, nil
		}
	}
	r, err := importOne(ctx, dir, path, o)
	if err != nil {
		return nil, err
	}
	return []ImportResult{r}, nil
}

// importOne imports one zip, JSON file or directory of JSON records as one source.
func importOne(ctx context.Context, dir, path string, o ImportOptions) (ImportResult, error) {
	start := time.Now()
	if o.Now.IsZero() {
		o.Now = start
	}
	if o.Origin == "" {
		if abs, err := filepath.Abs(path); err == nil {
			o.Origin = abs
		} else {
			o.Origin = path
		}
	}
	name := o.Source
	if name == "" && filepath.Base(path) == "all.zip" {
		if d := filepath.Base(filepath.Dir(path)); Supported(d) {
			name = d
		}
	}
	src, closeSrc, err := openEntries(path)
	if err != nil {
		return ImportResult{}, err
	}
	defer closeSrc()
	b, err := newBuilder(dir)
	if err != nil {
		return ImportResult{}, err
	}
	defer b.abort()
	label := name
	if label == "" {
		label = filepath.Base(path)
	}
	if err := run(ctx, src, b, o, label, name); err != nil {
		return ImportResult{}, fmt.Errorf("importing %s: %w (the installed database is unchanged)", path, err)
	}
	if name == "" {
		name = b.guessSource()
		if name == "" {
			return ImportResult{}, fmt.Errorf("importing %s: no record names a supported ecosystem (%s)", path, strings.Join(b.warn.Lines(), "; "))
		}
		// A zip is an ecosystem's export, whatever its file name: like a
		// named one, it keeps only its own ecosystem's entries. A directory
		// of records (one's own advisories) keeps them all.
		if src.zip {
			if err := b.keepOnly(name); err != nil {
				return ImportResult{}, fmt.Errorf("importing %s: %w", path, err)
			}
		}
	}
	info, err := b.finish(importMeta{name: name, origin: o.Origin, etag: o.ETag, lastModified: o.LastModified, now: o.Now})
	if err != nil {
		return ImportResult{}, fmt.Errorf("importing %s: %w (the installed database is unchanged)", path, err)
	}
	return ImportResult{Info: info, Warnings: b.warn.Lines(), Duration: time.Since(start)}, nil
}

// entries is a list of records to read, from a zip or a directory.
type entries struct {
	zip  bool
	n    int
	name func(i int) string
	read func(i int) ([]byte, error)
}

func openEntries(path string) (*entries, func(), error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if fi.IsDir() {
		var files []string
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".json") {
				if len(files) >= maxEntries {
					return fmt.Errorf("over %d JSON files", maxEntries)
				}
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("%s holds no OSV JSON records (*.json) and no <Ecosystem>/all.zip", path)
		}
		sort.Strings(files)
		return &entries{
			n:    len(files),
			name: func(i int) string { return files[i] },
			read: func(i int) ([]byte, error) { return readBounded(files[i]) },
		}, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	if !bytes.Equal(head[:n], []byte("PK\x03\x04")) {
		f.Close()
		if strings.HasSuffix(path, ".json") {
			return &entries{n: 1, name: func(int) string { return path }, read: func(int) ([]byte, error) { return readBounded(path) }}, func() {}, nil
		}
		return nil, nil, fmt.Errorf("%s is neither a zip archive nor an OSV JSON file", path)
	}
	zr, err := zip.NewReader(f, fi.Size())
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a complete zip archive (truncated download?): %w", path, err)
	}
	var files []*zip.File
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() || !strings.HasSuffix(zf.Name, ".json") {
			continue
		}
		if len(files) >= maxEntries {
			f.Close()
			return nil, nil, fmt.Errorf("%s: over %d entries", path, maxEntries)
		}
		files = append(files, zf)
	}
	if len(files) == 0 {
		f.Close()
		return nil, nil, fmt.Errorf("%s holds no OSV JSON records (*.json)", path)
	}
	return &entries{
		zip:  true,
		n:    len(files),
		name: func(i int) string { return files[i].Name },
		read: func(i int) ([]byte, error) {
			zf := files[i]
			if zf.UncompressedSize64 > maxRecordBytes {
				return nil, fmt.Errorf("%w: %d bytes, over the %d-byte limit", errTooLarge, zf.UncompressedSize64, maxRecordBytes)
			}
			rc, err := zf.Open()
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			b, err := io.ReadAll(io.LimitReader(rc, maxRecordBytes+1))
			if err != nil {
				return nil, err
			}
			if len(b) > maxRecordBytes {
				return nil, fmt.Errorf("%w: over the %d-byte limit", errTooLarge, maxRecordBytes)
			}
			return b, nil
		},
	}, func() { f.Close() }, nil
}

var errTooLarge = errors.New("record too large")

func readBounded(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRecordBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRecordBytes {
		return nil, fmt.Errorf("%w: over the %d-byte limit", errTooLarge, maxRecordBytes)
	}
	return b, nil
}

// run parses the entries on several workers and stores them from this
// goroutine (SQLite has one writer). A read error (corrupt archive) stops
// the import; a bad record is a warning.
func run(ctx context.Context, src *entries, b *builder, o ImportOptions, label, only string) error {
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	results := make(chan *prepared, 4*workers)
	var readErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cache parseCache
			for i := range jobs {
				data, err := src.read(i)
				if err != nil && !errors.Is(err, errTooLarge) {
					once.Do(func() { readErr = fmt.Errorf("reading %s: %w", src.name(i), err) })
					cancel()
					return
				}
				var p *prepared
				if err != nil {
					p = &prepared{entry: src.name(i), err: err}
				} else {
					p = prepare(filepath.Base(src.name(i)), data, only, &cache)
				}
				p.index = i
				select {
				case results <- p:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := 0; i < src.n; i++ {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	done := 0
	var storeErr error
	for p := range results {
		if storeErr != nil {
			continue
		}
		if err := b.add(p); err != nil {
			storeErr = err
			cancel()
			continue
		}
		done++
		if o.Progress != nil && (done%500 == 0 || done == src.n) {
			o.Progress(label, int64(done), int64(src.n))
		}
	}
	switch {
	case readErr != nil:
		return readErr
	case storeErr != nil:
		return storeErr
	case done < src.n:
		return fmt.Errorf("interrupted after %d of %d records: %w", done, src.n, ctx.Err())
	}
	return nil
}
