package manifest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Extensions are the file extensions read from a directory, as kubectl reads them.
var Extensions = []string{".json", ".yaml", ".yml"}

// ReadPaths reads the manifests `-f` names: a file (whatever its extension), a directory (its
// .json, .yaml and .yml files in name order; its subdirectories too when recursive, as
// kubectl -R), or "-" for stdin (named "STDIN" in errors). Every error is returned, joined,
// together with the items that could be read.
func ReadPaths(paths []string, recursive bool, stdin io.Reader) ([]Item, error) {
	var items []Item
	var errs []error
	read := func(r io.Reader, source string) {
		got, err := ReadItems(r, source)
		items = append(items, got...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	readFile := func(name string) {
		f, err := os.Open(name)
		if err != nil {
			errs = append(errs, err)
			return
		}
		defer f.Close()
		read(f, name)
	}
	for _, p := range paths {
		if p == "-" {
			read(stdin, "STDIN")
			continue
		}
		if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
			errs = append(errs, fmt.Errorf("%s: reading manifests from URLs is not supported", p))
			continue
		}
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("the path %q does not exist", p))
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !fi.IsDir() {
			readFile(p)
			continue
		}
		files, err := manifestFiles(p, recursive)
		if err != nil {
			errs = append(errs, err)
		}
		for _, f := range files {
			readFile(f)
		}
	}
	return items, errors.Join(errs...)
}

// manifestFiles lists a directory's manifest files in name order (WalkDir visits entries in
// lexical order), descending into subdirectories when recursive.
func manifestFiles(dir string, recursive bool) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && !recursive {
				return fs.SkipDir
			}
			return nil
		}
		for _, ext := range Extensions {
			if filepath.Ext(p) == ext {
				files = append(files, p)
				break
			}
		}
		return nil
	})
	return files, err
}
