package dataplane_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// fileServerPy is an HTTP server on port 80 that lets a test look at an
// instance's files from the host:
//
//	/ls?path=P              the names in directory P, one a line
//	/cat?path=P             file P
//	/write?path=P&data=D    writes D to file P (and fsyncs it)
//	/mounted?path=P         "yes" when P is a mount point (mountinfo), else "no"
const fileServerPy = `import http.server, os, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        p = q.get("path", [""])[0]
        code = 200
        try:
            if u.path == "/ls":
                body = "\n".join(sorted(os.listdir(p)))
            elif u.path == "/cat":
                body = open(p).read()
            elif u.path == "/write":
                with open(p, "w") as f:
                    f.write(q["data"][0])
                    f.flush()
                    os.fsync(f.fileno())
                body = "written"
            elif u.path == "/mounted":
                mps = [l.split()[4] for l in open("/proc/self/mountinfo")]
                body = "yes" if p in mps else "no"
            else:
                code, body = 404, "not found"
        except Exception as e:
            code, body = 500, repr(e)
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
class S(http.server.ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
S(("0.0.0.0", 80), H).serve_forever()
`

func fileServerUserData(extra string) string {
	return "#!/bin/sh\n" + extra + "\ncat > /var/tmp/files.py <<'EOF'\n" + fileServerPy + "EOF\n" +
		"nohup python3 /var/tmp/files.py >/var/tmp/files.log 2>&1 &\n"
}

// ask calls the file server of the instance at ip.
func ask(ip, op, path string, extra ...string) (string, error) {
	q := url.Values{"path": {path}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return fetch("http://" + ip + "/" + op + "?" + q.Encode())
}

// askUntil waits up to d until the file server's answer is want.
func askUntil(d time.Duration, want, ip, op, path string) error {
	return eventually(d, func() error {
		got, err := ask(ip, op, path)
		if err == nil && got != want {
			err = fmt.Errorf("%s %s on %s: %q, want %q", op, path, ip, got, want)
		}
		return err
	})
}

// hostMounts is the set of mount points of this process.
func hostMounts(t *testing.T) map[string]bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if fs := strings.Fields(s.Text()); len(fs) > 4 {
			out[fs[4]] = true
		}
	}
	return out
}

// TestEBSVolumes: a volume attached to a running instance appears at
// /mnt/ebs/<device>, keeps its data across detach and attach to another
// instance, and a root volume that is not DeleteOnTermination survives its
// instance's termination, data included.
func TestEBSVolumes(t *testing.T) {
	// Other tests may run concurrently: only mounts of this test's
	// instances count.
	var ids []string
	t.Cleanup(func() { // after the server's Close (cleanups run last first)
		for mp := range hostMounts(t) {
			for _, id := range ids {
				if strings.Contains(mp, "/"+id+"/") || strings.HasSuffix(mp, "/"+id) {
					t.Errorf("mount left on the host: %s", mp)
				}
			}
		}
	})
	e := newEnv(t)
	ctx := e.ctx
	image := e.image()
	imgs, err := e.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{aws.ToString(image)}})
	if err != nil || len(imgs.Images) != 1 {
		t.Fatalf("image: %v", err)
	}
	rootDevice := aws.ToString(imgs.Images[0].RootDeviceName)
	v := e.defaultVPC()
	sg := e.newSG(v.id, "files", tcpFrom(80, "0.0.0.0/0"))

	run := func(userData string, bdm []types.BlockDeviceMapping) string {
		out, err := e.ec2.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: image, InstanceType: types.InstanceTypeT3Micro,
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(v.subnets[0]), SecurityGroupIds: []string{sg},
			BlockDeviceMappings: bdm, UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData)))})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Instances[0].InstanceId)
	}
	// A's root volume outlives it.
	idA := run(fileServerUserData("echo root-of-A > /var/tmp/rootmark"),
		[]types.BlockDeviceMapping{{DeviceName: aws.String(rootDevice), Ebs: &types.EbsBlockDevice{DeleteOnTermination: aws.Bool(false)}}})
	idB := run(fileServerUserData(""), nil)
	ids = []string{idA, idB}
	instA, instB := e.waitState(idA, types.InstanceStateNameRunning), e.waitState(idB, types.InstanceStateNameRunning)
	ipA, ipB := aws.ToString(instA.PublicIpAddress), aws.ToString(instB.PublicIpAddress)
	zone := aws.ToString(instA.Placement.AvailabilityZone)
	rootA := ""
	for _, m := range instA.BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == rootDevice {
			rootA = aws.ToString(m.Ebs.VolumeId)
		}
	}
	if rootA == "" {
		t.Fatalf("no root volume on %s", idA)
	}
	for _, ip := range []string{ipA, ipB} {
		if err := askUntil(10*time.Second, "no", ip, "mounted", "/mnt/ebs/sdf"); err != nil {
			t.Fatalf("file server: %v", err)
		}
	}

	volume := func(id string) types.Volume {
		t.Helper()
		out, err := e.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
		if err != nil || len(out.Volumes) != 1 {
			t.Fatalf("DescribeVolumes %s: %v", id, err)
		}
		return out.Volumes[0]
	}
	waitVolume := func(id string, want types.VolumeState) {
		t.Helper()
		if err := eventually(5*time.Second, func() error {
			if got := volume(id).State; got != want {
				return fmt.Errorf("volume %s is %s, want %s", id, got, want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	attach := func(vol, inst, device string) {
		t.Helper()
		if _, err := e.ec2.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(vol), InstanceId: aws.String(inst), Device: aws.String(device)}); err != nil {
			t.Fatal(err)
		}
		if err := eventually(5*time.Second, func() error {
			vv := volume(vol)
			if len(vv.Attachments) != 1 || vv.Attachments[0].State != types.VolumeAttachmentStateAttached {
				return fmt.Errorf("volume %s attachments %+v, want attached", vol, vv.Attachments)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	// A new volume, attached to A while it runs: /mnt/ebs/sdf, writable.
	cv, err := e.ec2.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String(zone), Size: aws.Int32(1), VolumeType: types.VolumeTypeGp3})
	if err != nil {
		t.Fatal(err)
	}
	vol := aws.ToString(cv.VolumeId)
	waitVolume(vol, types.VolumeStateAvailable)
	attach(vol, idA, "/dev/sdf")
	if err := askUntil(3*time.Second, "yes", ipA, "mounted", "/mnt/ebs/sdf"); err != nil {
		t.Fatal(err)
	}
	if got, err := ask(ipA, "write", "/mnt/ebs/sdf/hello.txt", "data", "written-on-A"); err != nil || got != "written" {
		t.Fatalf("write on the volume: %q %v", got, err)
	}

	// Detach: gone from A. Attach to B: the file is there.
	if _, err := e.ec2.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(vol)}); err != nil {
		t.Fatal(err)
	}
	waitVolume(vol, types.VolumeStateAvailable)
	if err := askUntil(3*time.Second, "no", ipA, "mounted", "/mnt/ebs/sdf"); err != nil {
		t.Fatal(err)
	}
	attach(vol, idB, "/dev/sdf")
	if err := askUntil(3*time.Second, "written-on-A", ipB, "cat", "/mnt/ebs/sdf/hello.txt"); err != nil {
		t.Fatal(err)
	}
	con, err := e.ec2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(idB)})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := base64.StdEncoding.DecodeString(aws.ToString(con.Output)); !strings.Contains(string(out), "EBS "+vol+" attached at /mnt/ebs/sdf") {
		t.Errorf("B's console does not show the attachment:\n%s", out)
	}

	// Terminate A: its root volume becomes available with A's files, and
	// attached to B shows them.
	if _, err := e.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{idA}}); err != nil {
		t.Fatal(err)
	}
	e.waitState(idA, types.InstanceStateNameTerminated)
	waitVolume(rootA, types.VolumeStateAvailable)
	attach(rootA, idB, "/dev/sdg")
	if err := askUntil(3*time.Second, "root-of-A", ipB, "cat", "/mnt/ebs/sdg/var/tmp/rootmark"); err != nil {
		t.Fatal(err)
	}

	// Terminate B: its root volume goes; the two volumes, attached without
	// DeleteOnTermination, become available.
	if _, err := e.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{idB}}); err != nil {
		t.Fatal(err)
	}
	e.waitState(idB, types.InstanceStateNameTerminated)
	waitVolume(vol, types.VolumeStateAvailable)
	waitVolume(rootA, types.VolumeStateAvailable)
	for _, id := range []string{vol, rootA} {
		if _, err := e.ec2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
	}
}
