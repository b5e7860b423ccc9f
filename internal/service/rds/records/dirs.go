package records

import (
	"os"
	"path/filepath"
	"sync"

	"github.com/minicloud/minicloud/internal/state"
)

// DataDirs is where the records' data lives on disk:
// <root>/<account>/<region>/<instance id> for an instance (its engine's
// instance directory) and <root>/<account>/<region>/_snapshots/<id> for a
// snapshot ("_" because an instance may be named "snapshots", and an
// instance identifier never contains "_").
type DataDirs struct {
	stateDir string

	mu   sync.Mutex
	temp string
}

// NewDataDirs returns the data directories under <stateDir>/rds; an empty
// stateDir means a temporary directory, made on first use and removed by
// RemoveTemp.
func NewDataDirs(stateDir string) *DataDirs { return &DataDirs{stateDir: stateDir} }

// Root is <state>/rds.
func (d *DataDirs) Root() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stateDir != "" {
		return d.stateDir + "/rds", nil
	}
	if d.temp == "" {
		t, err := os.MkdirTemp("", "minicloud-rds-")
		if err != nil {
			return "", err
		}
		d.temp = t
	}
	return d.temp + "/rds", nil
}

// Instance is instance id's directory.
func (d *DataDirs) Instance(sc state.Scope, id string) (string, error) {
	root, err := d.Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, sc.Account, sc.Region, id), nil
}

// Snapshot is snapshot id's directory.
func (d *DataDirs) Snapshot(sc state.Scope, id string) (string, error) {
	root, err := d.Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, sc.Account, sc.Region, "_snapshots", id), nil
}

// RemoveTemp removes the temporary directory, if one was made.
func (d *DataDirs) RemoveTemp() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.temp != "" {
		_ = os.RemoveAll(d.temp)
		d.temp = ""
	}
}
