package minicloudtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	instruntime "github.com/minicloud/minicloud/internal/instance/runtime"
	"github.com/minicloud/minicloud/internal/server"
)

func init() {
	// An instance's init is this binary re-executed: it runs and exits
	// here, before any test.
	if instruntime.InitMain() {
		return
	}
	// The main goroutine keeps the main thread, so no namespace work ever
	// parks it in a VPC's namespace (see cmd/minicloud).
	goruntime.LockOSThread()
}

// The credentials of Cloud.Config. Without IAM enforcement any key works
// and every request is account AccountID's; with it (WithIAM), this key is
// the account's root and its secret is verified.
const (
	AccessKeyID     = "test"
	SecretAccessKey = "test"
	// AccountID is the account Cloud.Config's requests act in.
	AccountID = "000000000000"
)

// stopTimeout bounds how long a Cloud's close waits for its instances and
// servers to stop.
const stopTimeout = 30 * time.Second

// Cloud is a running minicloud.
type Cloud struct {
	// Config is for aws-sdk-go-v2 clients: the region, static credentials
	// (AccessKeyID, SecretAccessKey) and BaseEndpoint set to Endpoint,
	// e.g. ec2.NewFromConfig(mc.Config).
	Config aws.Config
	// Endpoint is the API's URL, http://127.0.0.1:PORT, for clients
	// other than the Go SDK (AWS_ENDPOINT_URL, --endpoint-url, boto3's
	// endpoint_url).
	Endpoint string
	// DNSAddr is the address (127.0.0.1:PORT, UDP and TCP) of the DNS
	// server that answers Route 53's public hosted zones, as the internet
	// would.
	DNSAddr string

	srv *server.Server
	pub *publicRange // nil: none claimed
}

// config is what the options set.
type config struct {
	region     string
	iam        bool
	dataPlane  bool
	publicCIDR netip.Prefix
	logger     *slog.Logger
}

// Option changes how New and Start start minicloud.
type Option func(*config)

// WithRegion sets Config's region (default us-east-1).
func WithRegion(region string) Option { return func(c *config) { c.region = region } }

// WithIAM evaluates every request against its caller's IAM policies, as
// `minicloud serve --iam enforce` does: Config's key is the account's root
// (allowed everything), and credentials of IAM users and roles get what
// their policies allow. Signatures are verified, so a client must sign
// with a real secret (Config's, an IAM access key's, or STS's).
func WithIAM() Option { return func(c *config) { c.iam = true } }

// WithoutDataPlane runs the API only, even as root: VPCs are records,
// instances reach AWS's states with nothing running (minicloud's API-only
// mode: their console output says so). Faster to start
// and stop, and touches nothing on the host but RDS's servers on loopback.
func WithoutDataPlane() Option { return func(c *config) { c.dataPlane = false } }

// WithPublicCIDR sets the range public IPs (Elastic IPs, auto-assigned)
// come from and the data plane routes on the host. By default each Cloud
// with the data plane claims a /24 of 198.19.0.0/17 that no other Cloud on
// the host holds (a lock file per range), so clouds of parallel tests and
// packages never route one address. A range given here is not claimed:
// keep it to one Cloud at a time, inside 198.18.0.0/15.
func WithPublicCIDR(p netip.Prefix) Option { return func(c *config) { c.publicCIDR = p } }

// WithLogger sends minicloud's logs to l (default: discarded).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// New starts a minicloud for t, stopped by t's cleanup. It fails t if
// minicloud cannot start, and logs whether the data plane runs.
func New(t testing.TB, opts ...Option) *Cloud {
	t.Helper()
	c, err := Start(opts...)
	if err != nil {
		t.Fatalf("minicloudtest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("minicloudtest: %v", err)
		}
	})
	if on, why := c.DataPlane(); on {
		t.Logf("minicloud at %s (DNS %s), data plane on, public IPs from %s", c.Endpoint, c.DNSAddr, c.srv.PublicCIDR())
	} else {
		t.Logf("minicloud at %s (DNS %s), API only: %s", c.Endpoint, c.DNSAddr, why)
	}
	return c
}

// Start starts a minicloud; Close stops it.
func Start(opts ...Option) (*Cloud, error) {
	cfg := config{region: "us-east-1", dataPlane: true}
	for _, o := range opts {
		o(&cfg)
	}
	scfg := server.Config{Ephemeral: true, Listen: "127.0.0.1:0", DNSListen: "127.0.0.1:0",
		DataPlane: server.DataPlaneOff, PublicCIDR: cfg.publicCIDR, Logger: cfg.logger}
	c := &Cloud{}
	if cfg.dataPlane {
		// auto: the server says why when this host cannot run it.
		scfg.DataPlane = server.DataPlaneAuto
		if maybeDataPlane() && !scfg.PublicCIDR.IsValid() {
			pr, err := claimPublicRange()
			if err != nil {
				return nil, err
			}
			c.pub, scfg.PublicCIDR = pr, pr.prefix
		}
	}
	if cfg.iam {
		scfg.Accounts = map[string]string{AccessKeyID: AccountID}
		scfg.Secrets = map[string]string{AccessKeyID: SecretAccessKey}
		scfg.IAMEnforce, scfg.VerifySignatures = true, true
	}
	srv, err := server.New(scfg)
	if err != nil {
		c.pub.release()
		return nil, fmt.Errorf("start minicloud: %w", err)
	}
	c.srv = srv
	if err := srv.Start(); err != nil {
		return nil, errors.Join(fmt.Errorf("start minicloud: %w", err), c.Close())
	}
	if on, _ := srv.DataPlane(); !on {
		// The range is the data plane's: without it, others may have it.
		c.pub.release()
		c.pub = nil
	}
	c.Endpoint = "http://" + srv.Addr()
	c.DNSAddr = srv.DNSAddr()
	c.Config = aws.Config{
		Region:       cfg.region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(c.Endpoint),
	}
	return c, nil
}

// maybeDataPlane is whether the data plane may run here (root on Linux):
// only then is a public range claimed; the server decides the rest.
func maybeDataPlane() bool { return goruntime.GOOS == "linux" && os.Geteuid() == 0 }

// Close stops the minicloud and removes everything it started: instances,
// database servers, networks.
func (c *Cloud) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	err := c.srv.Close(ctx)
	c.pub.release()
	c.pub = nil
	if err != nil {
		return fmt.Errorf("stop minicloud: %w", err)
	}
	return nil
}

// DataPlane says whether VPCs are real networks and instances real
// processes, and if not, why.
func (c *Cloud) DataPlane() (on bool, reason string) { return c.srv.DataPlane() }

// PublicCIDR is the range public IPs come from.
func (c *Cloud) PublicCIDR() netip.Prefix { return c.srv.PublicCIDR() }

// DBAddress is the loopback address (127.0.0.1:PORT) where the test
// reaches DB instance id of Config's account and region: "" while it has
// none (before the server first starts). Clients inside the VPC use the
// instance's endpoint name instead, as on AWS.
func (c *Cloud) DBAddress(ctx context.Context, id string) (string, error) {
	return c.srv.RDS().Loopback(ctx, AccountID, c.Config.Region, id)
}
