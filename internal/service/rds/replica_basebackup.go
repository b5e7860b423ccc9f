package rds

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// replicaBaseBackup makes dir/data a standby of the server whose unix
// socket directory is srcSock and whose port is srcPort: pg_basebackup
// with -R (standby.signal, primary_conninfo), streaming the WAL it needs
// and creating the replica's replication slot on the source. It runs as
// the server user with dir as fd 3 and srcSock as fd 4, so neither path's
// ancestors need be searchable by that user.
func (e *engine) replicaBaseBackup(dir string, srcSock *os.File, srcPort int, password, slot, appName string) error {
	u, err := serverUser()
	if err != nil {
		return err
	}
	if err := prepareDir(dir, u); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(dir, "data")); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	cmd := e.command(u, d, "pg_basebackup",
		"-d", fmt.Sprintf("host=/proc/self/fd/4 port=%d user=%s application_name=%s", srcPort, replUser, appName),
		"-D", fdDir+"/data", "-X", "stream", "-c", "fast", "-R", "-C", "-S", slot, "-w", "--no-sync")
	cmd.ExtraFiles = append(cmd.ExtraFiles, srcSock)
	cmd.Env = append(cmd.Env, "PGPASSWORD="+password, "PGCONNECT_TIMEOUT=10")
	out, err := onOwnThread(cmd.CombinedOutput)
	if err != nil {
		return fmt.Errorf("pg_basebackup from port %s: %v: %s", strconv.Itoa(srcPort), err, lastLines(string(out), 5))
	}
	return nil
}
