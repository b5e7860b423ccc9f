package ec2_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"
)

// kpColonHex renders a digest as AWS's colon-separated hex fingerprint.
func kpColonHex(sum []byte) string {
	h := hex.EncodeToString(sum)
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

func TestCreateKeyPairFormatsAndFingerprints(t *testing.T) {
	e := newEnv(t, "")
	t.Run("rsa pem", func(t *testing.T) {
		out, err := e.ec2.CreateKeyPair(e.ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("rsa-key")})
		if err != nil {
			t.Fatal(err)
		}
		mat := aws.ToString(out.KeyMaterial)
		if !strings.HasPrefix(mat, "-----BEGIN RSA PRIVATE KEY-----") {
			t.Fatalf("material: %.40q", mat)
		}
		if !strings.HasPrefix(aws.ToString(out.KeyPairId), "key-") {
			t.Fatalf("id %q", aws.ToString(out.KeyPairId))
		}
		if _, err := ssh.ParsePrivateKey([]byte(mat)); err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode([]byte(mat))
		priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if priv.N.BitLen() != 2048 {
			t.Fatalf("bits %d", priv.N.BitLen())
		}
		der, _ := x509.MarshalPKCS8PrivateKey(priv)
		sum := sha1.Sum(der)
		if got, want := aws.ToString(out.KeyFingerprint), kpColonHex(sum[:]); got != want {
			t.Fatalf("fingerprint %s, want %s", got, want)
		}
	})
	t.Run("ed25519 pem", func(t *testing.T) {
		out, err := e.ec2.CreateKeyPair(e.ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("ed-key"), KeyType: types.KeyTypeEd25519})
		if err != nil {
			t.Fatal(err)
		}
		mat := aws.ToString(out.KeyMaterial)
		if !strings.HasPrefix(mat, "-----BEGIN OPENSSH PRIVATE KEY-----") {
			t.Fatalf("material: %.40q", mat)
		}
		signer, err := ssh.ParsePrivateKey([]byte(mat))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(signer.PublicKey().Marshal())
		if got, want := aws.ToString(out.KeyFingerprint), base64.StdEncoding.EncodeToString(sum[:]); got != want {
			t.Fatalf("fingerprint %s, want %s", got, want)
		}
		// The stored public key is the one of the returned private key.
		d, err := e.ec2.DescribeKeyPairs(e.ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"ed-key"}, IncludePublicKey: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		pub, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(aws.ToString(d.KeyPairs[0].PublicKey)))
		if err != nil {
			t.Fatal(err)
		}
		if string(pub.Marshal()) != string(signer.PublicKey().Marshal()) || comment != "ed-key" {
			t.Fatalf("public key mismatch (comment %q)", comment)
		}
		if d.KeyPairs[0].KeyType != types.KeyTypeEd25519 || d.KeyPairs[0].CreateTime == nil {
			t.Fatalf("describe: %+v", d.KeyPairs[0])
		}
	})
	t.Run("ppk", func(t *testing.T) {
		for _, kt := range []types.KeyType{types.KeyTypeRsa, types.KeyTypeEd25519} {
			out, err := e.ec2.CreateKeyPair(e.ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("ppk-" + string(kt)), KeyType: kt, KeyFormat: types.KeyFormatPpk})
			if err != nil {
				t.Fatal(err)
			}
			mat := aws.ToString(out.KeyMaterial)
			alg := map[types.KeyType]string{types.KeyTypeRsa: "ssh-rsa", types.KeyTypeEd25519: "ssh-ed25519"}[kt]
			if !strings.HasPrefix(mat, "PuTTY-User-Key-File-2: "+alg+"\nEncryption: none\n") || !strings.Contains(mat, "\nPrivate-MAC: ") {
				t.Fatalf("ppk material: %q", mat)
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		_, err := e.ec2.CreateKeyPair(e.ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("rsa-key")})
		wantCode(t, err, "InvalidKeyPair.Duplicate")
		_, err = e.ec2.CreateKeyPair(e.ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("x"), KeyType: "dsa"})
		wantCode(t, err, "InvalidParameterValue")
		_, err = e.ec2.CreateKeyPair(e.ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("x"), KeyFormat: "der"})
		wantCode(t, err, "InvalidParameterValue")
		_, err = e.ec2.CreateKeyPair(e.ctx, &ec2.CreateKeyPairInput{KeyName: aws.String("x"), DryRun: aws.Bool(true)})
		wantCode(t, err, "DryRunOperation")
	})
}

func TestImportKeyPair(t *testing.T) {
	e := newEnv(t, "")
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaPub, _ := ssh.NewPublicKey(&rsaKey.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	md := md5.Sum(der)
	edPubKey, _, _ := ed25519.GenerateKey(rand.Reader)
	edPub, _ := ssh.NewPublicKey(edPubKey)
	edSum := sha256.Sum256(edPub.Marshal())
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecPub, _ := ssh.NewPublicKey(&ecKey.PublicKey)
	// A 512-bit modulus: Go refuses to generate such keys, but only the
	// public half is needed.
	smallN, _ := rand.Prime(rand.Reader, 512)
	smallPub, _ := ssh.NewPublicKey(&rsa.PublicKey{N: smallN, E: 65537})

	cases := []struct {
		name, keyName string
		material      []byte
		wantType      types.KeyType
		wantFP        string
		wantErr       string
	}{
		{name: "rsa", keyName: "imp-rsa", material: ssh.MarshalAuthorizedKey(rsaPub), wantType: types.KeyTypeRsa, wantFP: kpColonHex(md[:])},
		{name: "ed25519 with comment", keyName: "imp-ed", material: append([]byte(strings.TrimSpace(string(ssh.MarshalAuthorizedKey(edPub)))), " me@host\n"...), wantType: types.KeyTypeEd25519, wantFP: base64.StdEncoding.EncodeToString(edSum[:])},
		{name: "duplicate", keyName: "imp-rsa", material: ssh.MarshalAuthorizedKey(rsaPub), wantErr: "InvalidKeyPair.Duplicate"},
		{name: "garbage", keyName: "imp-bad", material: []byte("ssh-rsa not-base64!"), wantErr: "InvalidKey.Format"},
		{name: "ecdsa unsupported", keyName: "imp-ec", material: ssh.MarshalAuthorizedKey(ecPub), wantErr: "InvalidKey.Format"},
		{name: "rsa too small", keyName: "imp-small", material: ssh.MarshalAuthorizedKey(smallPub), wantErr: "InvalidParameterValue"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.ec2.ImportKeyPair(e.ctx, &ec2.ImportKeyPairInput{KeyName: aws.String(tc.keyName), PublicKeyMaterial: tc.material})
			if tc.wantErr != "" {
				wantCode(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(out.KeyFingerprint); got != tc.wantFP {
				t.Fatalf("fingerprint %s, want %s", got, tc.wantFP)
			}
			d, err := e.ec2.DescribeKeyPairs(e.ctx, &ec2.DescribeKeyPairsInput{KeyPairIds: []string{aws.ToString(out.KeyPairId)}})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.KeyPairs) != 1 || d.KeyPairs[0].KeyType != tc.wantType || d.KeyPairs[0].PublicKey != nil {
				t.Fatalf("describe: %+v", d.KeyPairs)
			}
		})
	}
}

func TestDescribeAndDeleteKeyPairs(t *testing.T) {
	e := newEnv(t, "")
	ids := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		kt := types.KeyTypeRsa
		if n == "c" {
			kt = types.KeyTypeEd25519
		}
		out, err := e.ec2.CreateKeyPair(e.ctx, &ec2.CreateKeyPairInput{KeyName: aws.String(n), KeyType: kt,
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeKeyPair, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String(n)}}}}})
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = aws.ToString(out.KeyPairId)
	}
	count := func(in *ec2.DescribeKeyPairsInput) int {
		t.Helper()
		out, err := e.ec2.DescribeKeyPairs(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return len(out.KeyPairs)
	}
	for name, tc := range map[string]struct {
		in   *ec2.DescribeKeyPairsInput
		want int
	}{
		"all":         {&ec2.DescribeKeyPairsInput{}, 3},
		"names":       {&ec2.DescribeKeyPairsInput{KeyNames: []string{"a", "b"}}, 2},
		"ids":         {&ec2.DescribeKeyPairsInput{KeyPairIds: []string{ids["c"]}}, 1},
		"key-type":    {&ec2.DescribeKeyPairsInput{Filters: []types.Filter{{Name: aws.String("key-type"), Values: []string{"rsa"}}}}, 2},
		"key-name":    {&ec2.DescribeKeyPairsInput{Filters: []types.Filter{{Name: aws.String("key-name"), Values: []string{"?"}}}}, 3},
		"key-pair-id": {&ec2.DescribeKeyPairsInput{Filters: []types.Filter{{Name: aws.String("key-pair-id"), Values: []string{ids["a"]}}}}, 1},
		"tag":         {&ec2.DescribeKeyPairsInput{Filters: []types.Filter{{Name: aws.String("tag:k"), Values: []string{"b", "c"}}}}, 2},
	} {
		if got := count(tc.in); got != tc.want {
			t.Errorf("%s: %d key pairs, want %d", name, got, tc.want)
		}
	}
	_, err := e.ec2.DescribeKeyPairs(e.ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{"nope"}})
	wantCode(t, err, "InvalidKeyPair.NotFound")
	_, err = e.ec2.DescribeKeyPairs(e.ctx, &ec2.DescribeKeyPairsInput{Filters: []types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")

	del, err := e.ec2.DeleteKeyPair(e.ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("a")})
	if err != nil || !aws.ToBool(del.Return) || aws.ToString(del.KeyPairId) != ids["a"] {
		t.Fatalf("delete by name: %+v %v", del, err)
	}
	if _, err := e.ec2.DeleteKeyPair(e.ctx, &ec2.DeleteKeyPairInput{KeyPairId: aws.String(ids["b"])}); err != nil {
		t.Fatal(err)
	}
	// AWS answers success for a key pair that does not exist.
	del, err = e.ec2.DeleteKeyPair(e.ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String("a")})
	if err != nil || !aws.ToBool(del.Return) || del.KeyPairId != nil {
		t.Fatalf("delete missing: %+v %v", del, err)
	}
	if got := count(&ec2.DescribeKeyPairsInput{}); got != 1 {
		t.Fatalf("%d key pairs left, want 1", got)
	}
	_, err = e.ec2.DeleteKeyPair(e.ctx, &ec2.DeleteKeyPairInput{})
	wantCode(t, err, "MissingParameter")
}
