package immutable

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
)

// The migration table of docs/upgrades.md sits between these markers.
const (
	beginMigrations = "<!-- BEGIN MIGRATIONS"
	endMigrations   = "<!-- END MIGRATIONS"
)

// Migration is one row of the table: in Version, Field of Object changes
// (or, with Field ObjectField, the object goes away), and Steps say what an
// operator does about it.
type Migration struct {
	Version string // vMAJOR.MINOR.PATCH that first renders the change
	Object  string // ID pattern: <name>, <namespace>, <grafana-namespace>, then path.Match globs
	Field   string
	Steps   string
	Line    int // in the file, for messages
}

// Stack is what the placeholders of a Migration's Object stand for.
type Stack struct{ Name, Namespace, GrafanaNamespace string }

// Covers reports whether m declares change c for an install of stack that
// was rendered by version baseline.
func (m Migration) Covers(baseline string, stack Stack, c Change) bool {
	if compareVersions(m.Version, baseline) <= 0 || m.Field != c.Field {
		return false
	}
	pattern := strings.NewReplacer(
		"<name>", stack.Name, "<namespace>", stack.Namespace, "<grafana-namespace>", stack.GrafanaNamespace,
	).Replace(m.Object)
	ok, err := path.Match(pattern, c.Object)
	return err == nil && ok
}

// ReadMigrations parses the migration table of docs/upgrades.md. A row
// that does not parse is an error, so a typo cannot silently declare
// nothing.
func ReadMigrations(name string) ([]Migration, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Migration
	inTable, found := false, false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, beginMigrations):
			inTable, found = true, true
			continue
		case strings.HasPrefix(line, endMigrations):
			inTable = false
			continue
		}
		if !inTable || !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		if len(cells) != 4 {
			return nil, fmt.Errorf("%s:%d: a migration row has 4 cells (version, object, field, steps), not %d", name, n, len(cells))
		}
		if cells[0] == "Version" || strings.HasPrefix(cells[0], "---") {
			continue // header and separator
		}
		m := Migration{Version: cells[0], Object: cells[1], Field: cells[2], Steps: cells[3], Line: n}
		if _, ok := parseVersion(m.Version); !ok {
			return nil, fmt.Errorf("%s:%d: version %q is not vMAJOR.MINOR.PATCH", name, n, m.Version)
		}
		if _, err := path.Match(m.Object, ""); err != nil || m.Object == "" || m.Field == "" || m.Steps == "" {
			return nil, fmt.Errorf("%s:%d: object, field and migration steps are all required (object a valid pattern)", name, n)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%s: no %q marker: where is the migration table?", name, beginMigrations+" -->")
	}
	return out, nil
}

// parseVersion parses vMAJOR.MINOR.PATCH.
func parseVersion(v string) ([3]int, bool) {
	var out [3]int
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if !strings.HasPrefix(v, "v") || len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || strconv.Itoa(n) != p {
			return out, false
		}
		out[i] = n
	}
	return out, true
}

// compareVersions orders two vMAJOR.MINOR.PATCH versions (-1, 0, 1);
// versions that do not parse sort first.
func compareVersions(a, b string) int {
	va, _ := parseVersion(a)
	vb, _ := parseVersion(b)
	for i := range va {
		switch {
		case va[i] < vb[i]:
			return -1
		case va[i] > vb[i]:
			return 1
		}
	}
	return 0
}

// IsVersion reports whether v is vMAJOR.MINOR.PATCH.
func IsVersion(v string) bool { _, ok := parseVersion(v); return ok }

// Baselines lists the released versions recorded under dir (one vX.Y.Z
// directory each), oldest first. Anything else there, or nothing, is an
// error: a baseline that is not found is a check that is not made.
func Baselines(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("no baselines: %w", err)
	}
	var versions []string
	for _, e := range entries {
		if !e.IsDir() || !IsVersion(e.Name()) {
			return nil, fmt.Errorf("%s: unexpected %s (want only vX.Y.Z directories)", dir, e.Name())
		}
		versions = append(versions, e.Name())
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("no baseline under %s", dir)
	}
	slices.SortFunc(versions, compareVersions)
	return versions, nil
}
