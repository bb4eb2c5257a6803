package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/thedevops/loki-cmp/config"
)

// readInput reads loki.yaml from path ("-": stdin), at most one byte more
// than config accepts, so an endless or huge input cannot exhaust memory
// (config reports the size).
func readInput(s Streams, path string, underArgoCD bool) ([]byte, string, error) {
	var r io.Reader = s.In
	name := "<stdin>"
	if path != "-" {
		f, err := openInput(path, underArgoCD)
		if err != nil {
			return nil, path, &inputError{fmt.Errorf("cannot read %s: %w", path, err)}
		}
		defer f.Close()
		r, name = f, path
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, config.MaxInputBytes+1)); err != nil {
		return nil, name, &inputError{fmt.Errorf("cannot read %s: %w", name, unwrapPathError(err))}
	}
	return buf.Bytes(), name, nil
}

// openInput opens a regular file. Under Argo CD the working directory is
// the application's path in the checked-out repository, whose content the
// repository's authors control, next to other applications' files and the
// sidecar's own: there the path is opened inside it through os.Root, so
// neither ".." nor a symlink can reach outside. At a terminal the path is
// whatever the person typed.
func openInput(path string, underArgoCD bool) (*os.File, error) {
	if !underArgoCD {
		return openRegular(os.Stat, os.Open, path)
	}
	if filepath.IsAbs(path) {
		return nil, errors.New("under Argo CD loki-cmp reads only files inside the application's directory; give a relative path")
	}
	root, err := os.OpenRoot(".")
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer root.Close()
	return openRegular(root.Stat, root.Open, path)
}

// openRegular refuses anything but a regular file before opening it: a FIFO
// would block the open for ever, a device would never end.
func openRegular(stat func(string) (fs.FileInfo, error), open func(string) (*os.File, error), path string) (*os.File, error) {
	st, err := stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if other := otherExtension(path); other != "" {
				if _, err := stat(other); err == nil {
					return nil, fmt.Errorf("no such file, but there is %s: pass -f %s (or rename it to %s)", other, other, filepath.Base(path))
				}
			}
		}
		return nil, friendly(err)
	}
	if m := st.Mode(); !m.IsRegular() {
		return nil, fmt.Errorf("it is %s, not a regular file", fileKind(m))
	}
	f, err := open(path)
	if err != nil {
		return nil, friendly(err)
	}
	return f, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

func friendly(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("no such file or directory (run in the directory that holds loki.yaml, or pass -f)")
	case strings.Contains(err.Error(), "path escapes from parent"):
		// os.Root refused a path that leaves the working directory.
		return errors.New("the path leads outside the working directory (through \"..\" or a symlink); loki-cmp reads only files inside it")
	}
	return unwrapPathError(err)
}

// unwrapPathError drops the path that *os.PathError repeats.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// otherExtension swaps .yaml and .yml: loki.yml is a common spelling of
// the loki.yaml loki-cmp looks for.
func otherExtension(path string) string {
	switch {
	case strings.HasSuffix(path, ".yaml"):
		return strings.TrimSuffix(path, ".yaml") + ".yml"
	case strings.HasSuffix(path, ".yml"):
		return strings.TrimSuffix(path, ".yml") + ".yaml"
	}
	return ""
}
