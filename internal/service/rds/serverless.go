package rds

import "github.com/minicloud/minicloud/internal/api/rdsapi"

// checkAutoPause refuses what Serverless v2's automatic pause needs: a
// MinCapacity of 0. (SecondsUntilAutoPause, which goes with it, is not in
// minicloud's API model yet, so a request's is not read.)
//
// minicloud does not pause: a paused Aurora instance stops its server and
// resumes it on the next connection, which waits meanwhile. The loopback
// relays could hold such a connection, but a client inside the VPC
// connects straight to the server's ENI address, where nothing would
// answer while the server is stopped, and a pause that only some clients
// survive is worse than none. So every engine here answers as an Aurora
// version without auto-pause does (AWS: Aurora PostgreSQL before 13.15,
// 14.12, 15.7, 16.3 and Aurora MySQL before 3.08): the minimum capacity
// must be at least 0.5 ACU. The wording is minicloud's (AWS's own message
// for an unsupported version could not be checked); the code is AWS's.
func checkAutoPause(c *rdsapi.ServerlessV2ScalingConfiguration) error {
	if deref(c.MinCapacity) == 0 {
		return errInvalidParam("Serverless v2 minimum capacity 0.0 isn't valid: this DB engine version doesn't support automatic pause and resume, so the minimum capacity must be at least 0.5.")
	}
	return nil
}
