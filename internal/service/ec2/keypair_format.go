package ec2

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Fingerprints, as AWS computes them:
//   - RSA key pairs AWS creates: SHA-1 of the private key in PKCS#8 DER;
//   - RSA keys imported: MD5 of the public key in DER (SubjectPublicKeyInfo);
//   - ED25519 keys, either way: SHA-256 of the public key (SSH wire format),
//     base64 with padding — OpenSSH's SHA256 fingerprint plus "=".
// The hex forms are lower-case pairs joined by colons.

func keyPairColonHex(sum []byte) string {
	h := hex.EncodeToString(sum)
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

func keyPairRSACreatedFingerprint(priv *rsa.PrivateKey) (string, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	sum := sha1.Sum(der)
	return keyPairColonHex(sum[:]), nil
}

func keyPairRSAImportedFingerprint(pub ssh.PublicKey) (string, error) {
	ck, ok := pub.(ssh.CryptoPublicKey)
	if !ok {
		return "", keyPairFormatErr()
	}
	der, err := x509.MarshalPKIXPublicKey(ck.CryptoPublicKey())
	if err != nil {
		return "", err
	}
	sum := md5.Sum(der)
	return keyPairColonHex(sum[:]), nil
}

func keyPairED25519Fingerprint(pub ssh.PublicKey) string {
	sum := sha256.Sum256(pub.Marshal())
	return base64.StdEncoding.EncodeToString(sum[:])
}

func keyPairFormatErr() error {
	return apiErr("InvalidKey.Format", "Key is not in valid OpenSSH public key format")
}

// keyPairParsePublic reads ImportKeyPair's PublicKeyMaterial: an OpenSSH
// public key line or an RFC 4716 block, also when base64-encoded once more
// (as some tools send it), of an RSA (1024–4096 bits) or ED25519 key.
func keyPairParsePublic(material []byte) (ssh.PublicKey, error) {
	pub, err := keyPairParseText(material)
	if err != nil {
		if dec, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(material))); derr == nil {
			pub, err = keyPairParseText(dec)
		}
	}
	if err != nil {
		return nil, keyPairFormatErr()
	}
	switch pub.Type() {
	case ssh.KeyAlgoED25519:
		return pub, nil
	case ssh.KeyAlgoRSA:
		ck := pub.(ssh.CryptoPublicKey).CryptoPublicKey().(*rsa.PublicKey)
		if bits := ck.N.BitLen(); bits < 1024 || bits > 4096 {
			return nil, errInvalidParam("Invalid RSA key length %d. Supported lengths are between 1024 and 4096 bits.", bits)
		}
		return pub, nil
	}
	return nil, keyPairFormatErr()
}

func keyPairParseText(b []byte) (ssh.PublicKey, error) {
	text := strings.TrimSpace(string(b))
	if strings.HasPrefix(text, "---- BEGIN SSH2 PUBLIC KEY ----") {
		var body strings.Builder
		cont := false
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(line, "----"):
				continue
			case cont || strings.Contains(line, ":"):
				cont = strings.HasSuffix(line, "\\")
				continue
			}
			body.WriteString(line)
		}
		raw, err := base64.StdEncoding.DecodeString(body.String())
		if err != nil {
			return nil, err
		}
		return ssh.ParsePublicKey(raw)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(text))
	return pub, err
}

// keyPairSSHString is SSH's length-prefixed string encoding.
func keyPairSSHString(b []byte) []byte {
	out := make([]byte, 4, 4+len(b))
	binary.BigEndian.PutUint32(out, uint32(len(b)))
	return append(out, b...)
}

// keyPairMPInt is SSH's mpint encoding of a non-negative integer.
func keyPairMPInt(n *big.Int) []byte {
	b := n.Bytes()
	if len(b) > 0 && b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return keyPairSSHString(b)
}

// keyPairPPKRSAPrivate is the private half of an RSA key in PuTTY's format.
func keyPairPPKRSAPrivate(priv *rsa.PrivateKey) []byte {
	var b []byte
	b = append(b, keyPairMPInt(priv.D)...)
	b = append(b, keyPairMPInt(priv.Primes[0])...)
	b = append(b, keyPairMPInt(priv.Primes[1])...)
	iqmp := new(big.Int).ModInverse(priv.Primes[1], priv.Primes[0])
	return append(b, keyPairMPInt(iqmp)...)
}

// keyPairPPK renders a PuTTY private key file, version 2, unencrypted.
func keyPairPPK(pub ssh.PublicKey, private []byte, comment string) string {
	alg := pub.Type()
	public := pub.Marshal()
	macKey := sha1.Sum([]byte("putty-private-key-file-mac-key"))
	mac := hmac.New(sha1.New, macKey[:])
	for _, part := range [][]byte{[]byte(alg), []byte("none"), []byte(comment), public, private} {
		mac.Write(keyPairSSHString(part))
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "PuTTY-User-Key-File-2: %s\nEncryption: none\nComment: %s\n", alg, comment)
	lines := func(b []byte) []string {
		s := base64.StdEncoding.EncodeToString(b)
		var ls []string
		for len(s) > 64 {
			ls, s = append(ls, s[:64]), s[64:]
		}
		return append(ls, s)
	}
	pl := lines(public)
	fmt.Fprintf(&out, "Public-Lines: %d\n%s\n", len(pl), strings.Join(pl, "\n"))
	sl := lines(private)
	fmt.Fprintf(&out, "Private-Lines: %d\n%s\n", len(sl), strings.Join(sl, "\n"))
	fmt.Fprintf(&out, "Private-MAC: %x\n", mac.Sum(nil))
	return out.String()
}
