package elbv2_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/minicloud/minicloud/internal/sdktest"
	"github.com/minicloud/minicloud/internal/server"
)

// TestTargetHealthFromRecords: the states DescribeTargetHealth knows
// without health checks, with AWS's reasons and descriptions.
func TestTargetHealthFromRecords(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{EC2Runtime: &testRuntime{}, ELBDataplane: newFakeDataplane()})
	n := e.newNetwork(t, true)
	tg := e.newTG(t, n, "reasons")
	running, stopped, unregistered := e.runInstance(t, n.subnetA), e.runInstance(t, n.subnetB), e.runInstance(t, n.subnetA)
	if _, err := e.elb.RegisterTargets(e.ctx, &elb.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String(running)}, {Id: aws.String(stopped), Port: aws.Int32(8080)}}}); err != nil {
		t.Fatal(err)
	}
	type want struct {
		state       types.TargetHealthStateEnum
		reason      types.TargetHealthReasonEnum
		description string
	}
	check := func(what string, wants map[string]want, targets ...types.TargetDescription) {
		t.Helper()
		out, err := e.elb.DescribeTargetHealth(e.ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn, Targets: targets})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.TargetHealthDescriptions) != len(wants) {
			t.Fatalf("%s: %d descriptions, want %d", what, len(out.TargetHealthDescriptions), len(wants))
		}
		for _, d := range out.TargetHealthDescriptions {
			w, h := wants[aws.ToString(d.Target.Id)], d.TargetHealth
			if h.State != w.state || h.Reason != w.reason || aws.ToString(h.Description) != w.description {
				t.Errorf("%s: %s is %s %s %q, want %s %s %q", what, aws.ToString(d.Target.Id), h.State, h.Reason, aws.ToString(h.Description), w.state, w.reason, w.description)
			}
			if aws.ToString(d.HealthCheckPort) != itoa32(aws.ToInt32(d.Target.Port)) {
				t.Errorf("%s: health check port %s for port %d", what, aws.ToString(d.HealthCheckPort), aws.ToInt32(d.Target.Port))
			}
		}
	}
	notInUse := want{"unused", "Target.NotInUse", "Target group is not configured to receive traffic from the load balancer"}
	check("no listener", map[string]want{running: notInUse, stopped: notInUse})
	check("not registered", map[string]want{unregistered: {"unused", "Target.NotRegistered", "Target is not registered to the target group"}},
		types.TargetDescription{Id: aws.String(unregistered)})

	lb := e.waitState(t, aws.ToString(e.newLB(t, n, "reasons").LoadBalancerArn), "active")
	e.newListener(t, aws.ToString(lb.LoadBalancerArn), aws.ToString(tg.TargetGroupArn), 80)
	if _, err := e.ec2.StopInstances(e.ctx, &ec2.StopInstancesInput{InstanceIds: []string{stopped}}); err != nil {
		t.Fatal(err)
	}
	waitFor(func() bool {
		out, err := e.ec2.DescribeInstances(e.ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{stopped}})
		return err == nil && out.Reservations[0].Instances[0].State.Name == "stopped"
	})
	check("in use", map[string]want{running: {"initial", "Elb.InitialHealthChecking", "Initial health checks in progress"},
		stopped: {"unused", "Target.InvalidState", "Target is in the stopped state"}})
	_, err := e.elb.DescribeTargetHealth(e.ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn,
		Targets: []types.TargetDescription{{Id: aws.String("i-0123456789abcdef0")}}})
	wantError(t, err, "InvalidTarget", "")
}

func itoa32(n int32) string { return strconv.Itoa(int(n)) }

// TestACMCertificates: an HTTPS listener uses a real ACM certificate,
// which then shows the load balancer in InUseBy and cannot be deleted; a
// deleted load balancer releases it.
func TestACMCertificates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{EC2Runtime: &testRuntime{}})
	certs := acm.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(e.url), RetryMaxAttempts: 1, HTTPClient: sdktest.HTTPClient()})
	certPEM, keyPEM := selfSigned(t, "www.example.com")
	imp, err := certs.ImportCertificate(e.ctx, &acm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	n := e.newNetwork(t, true)
	lb := e.newLB(t, n, "tls")
	tg := e.newTG(t, n, "tls-tg")
	l, err := e.elb.CreateListener(e.ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443),
		Certificates:   []types.Certificate{{CertificateArn: imp.CertificateArn}},
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(l.Listeners[0].SslPolicy); got != "ELBSecurityPolicy-2016-08" {
		t.Errorf("default SSL policy %s", got)
	}
	inUseBy := func() []string {
		out, err := certs.DescribeCertificate(e.ctx, &acm.DescribeCertificateInput{CertificateArn: imp.CertificateArn})
		if err != nil {
			t.Fatal(err)
		}
		return out.Certificate.InUseBy
	}
	if got := inUseBy(); !slices.Equal(got, []string{aws.ToString(lb.LoadBalancerArn)}) {
		t.Errorf("InUseBy %v, want the load balancer", got)
	}
	_, err = certs.DeleteCertificate(e.ctx, &acm.DeleteCertificateInput{CertificateArn: imp.CertificateArn})
	wantError(t, err, "ResourceInUseException", "")
	certs2, err := e.elb.DescribeListenerCertificates(e.ctx, &elb.DescribeListenerCertificatesInput{ListenerArn: l.Listeners[0].ListenerArn})
	if err != nil || len(certs2.Certificates) != 1 || !aws.ToBool(certs2.Certificates[0].IsDefault) {
		t.Errorf("listener certificates %+v %v", certs2, err)
	}
	if _, err := e.elb.DeleteLoadBalancer(e.ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}); err != nil {
		t.Fatal(err)
	}
	if !waitFor(func() bool { return len(inUseBy()) == 0 }) {
		t.Errorf("InUseBy after deletion: %v", inUseBy())
	}
	if _, err := certs.DeleteCertificate(e.ctx, &acm.DeleteCertificateInput{CertificateArn: imp.CertificateArn}); err != nil {
		t.Fatal(err)
	}
}

// selfSigned is a certificate for name and its key, PEM.
func selfSigned(t *testing.T, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}
