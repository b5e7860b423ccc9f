package ec2

import (
	"context"
	"strings"

	"github.com/minicloud/minicloud/internal/state"
)

// Systems Manager's side of the AMI catalogue: the public parameters AWS
// publishes for these images (what scripts resolve "the latest Amazon
// Linux" with) and whether an account may launch an image (Parameter
// Store's aws:ec2:image data type). EC2 owns the names because it owns the
// catalogue: a new entry says which parameters name it.

// publicParameters are the names AWS publishes for a catalogue entry under
// /aws/service/, by the entry's name. {arch} is amd64/x86_64 as each
// publisher writes it.
var publicParameters = map[string][]string{
	"al2023-ami-2023.6.20250101.0-kernel-6.1-x86_64": {
		"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
		"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64",
	},
	"al2023-ami-2023.6.20250101.0-kernel-6.1-arm64": {
		"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
		"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64",
	},
	"ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250101": ubuntuParameters("24.04", "noble", "amd64", "ebs-gp3", "20250101"),
	"ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20250101": ubuntuParameters("24.04", "noble", "arm64", "ebs-gp3", "20250101"),
	"ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250101":     ubuntuParameters("22.04", "jammy", "amd64", "ebs-gp2", "20250101"),
	"ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-20250101":     ubuntuParameters("22.04", "jammy", "arm64", "ebs-gp2", "20250101"),
	"debian-12-amd64-20250101-1990":                                      debianParameters("12", "bookworm", "amd64", "20250101-1990"),
	"debian-12-arm64-20250101-1990":                                      debianParameters("12", "bookworm", "arm64", "20250101-1990"),
}

// ubuntuParameters are Canonical's names for one image: by version and by
// code name, "current" and the image's serial.
func ubuntuParameters(version, codename, arch, volume, serial string) []string {
	var out []string
	for _, release := range []string{version, codename} {
		for _, build := range []string{"current", serial} {
			out = append(out, "/aws/service/canonical/ubuntu/server/"+release+"/stable/"+build+"/"+arch+"/hvm/"+volume+"/ami-id")
		}
	}
	return out
}

// debianParameters are Debian's names for one image: by version and by
// code name, "latest" and the image's version.
func debianParameters(version, codename, arch, build string) []string {
	var out []string
	for _, release := range []string{version, codename} {
		for _, b := range []string{"latest", build} {
			out = append(out, "/aws/service/debian/release/"+release+"/"+b+"/"+arch)
		}
	}
	return out
}

// PublicImageParameters are the public parameters that name the built-in
// images of region: parameter name → AMI ID.
func (s *Service) PublicImageParameters(region string) map[string]string {
	out := map[string]string{}
	for _, img := range amiCatalogFor(region).images {
		for _, name := range publicParameters[deref(img.Name)] {
			out[name] = deref(img.ImageId)
		}
	}
	return out
}

// ImageExists reports whether account may launch image id in region: a
// built-in image or one of its own, in any state but deregistered.
func (s *Service) ImageExists(ctx context.Context, account, region, id string) (bool, error) {
	if !strings.HasPrefix(id, "ami-") {
		return false, nil
	}
	if _, ok := amiBuiltinImage(region, id); ok {
		return true, nil
	}
	var found bool
	err := s.store.View(ctx, func(tx state.Tx) error {
		var err error
		_, found, err = images.find(&rtx{ctx: ctx, tx: tx, scope: state.Scope{Account: account, Region: region}, now: s.now().UTC()}, id)
		return err
	})
	return found, err
}

// Platform is the operating system an instance of the image reports
// (what its /etc/os-release says on AWS: the SSM Agent's PlatformName and
// PlatformVersion), by the image's name; a registered image's is generic
// Linux.
func Platform(imageName string) (name, version string) {
	switch {
	case strings.HasPrefix(imageName, "al2023-"):
		return "Amazon Linux", "2023"
	case strings.Contains(imageName, "ubuntu-noble-24.04"):
		return "Ubuntu", "24.04"
	case strings.Contains(imageName, "ubuntu-jammy-22.04"):
		return "Ubuntu", "22.04"
	case strings.HasPrefix(imageName, "debian-12-"):
		return "Debian GNU/Linux", "12"
	}
	return "Linux", ""
}
