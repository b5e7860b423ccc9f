package ssm_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

const helloDoc = `{"schemaVersion":"2.2","description":"hello","parameters":{"who":{"type":"String","default":"world"}},
"mainSteps":[{"action":"aws:runShellScript","name":"hello","inputs":{"runCommand":["echo hello {{ who }}"]}}]}`

// TestDocuments: AWS's documents, the account's own with versions and a
// default version, and what is refused.
func TestDocuments(t *testing.T) {
	e := newEnv(t, "")
	d, err := e.ssm.DescribeDocument(e.ctx, &ssm.DescribeDocumentInput{Name: aws.String("AWS-RunShellScript")})
	if err != nil || aws.ToString(d.Document.Owner) != "Amazon" || aws.ToString(d.Document.SchemaVersion) != "1.2" || d.Document.DocumentType != types.DocumentTypeCommand ||
		len(d.Document.Parameters) != 3 || !slices.Contains(d.Document.PlatformTypes, types.PlatformTypeLinux) {
		t.Fatalf("AWS-RunShellScript: %+v %v", d, err)
	}
	for _, name := range []string{"AWS-StartInteractiveCommand", "AWS-StartPortForwardingSession", "AWS-StartPortForwardingSessionToRemoteHost", "AWS-StartSSHSession", "SSM-SessionManagerRunShell"} {
		g, err := e.ssm.GetDocument(e.ctx, &ssm.GetDocumentInput{Name: aws.String(name)})
		if err != nil || g.DocumentType != types.DocumentTypeSession || aws.ToString(g.Content) == "" {
			t.Fatalf("%s: %+v %v", name, g, err)
		}
	}
	c, err := e.ssm.CreateDocument(e.ctx, &ssm.CreateDocumentInput{Name: aws.String("Hello"), Content: aws.String(helloDoc), DocumentType: types.DocumentTypeCommand,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("core")}}})
	if err != nil || aws.ToString(c.DocumentDescription.DocumentVersion) != "1" || aws.ToString(c.DocumentDescription.Owner) != "000000000000" ||
		c.DocumentDescription.HashType != types.DocumentHashTypeSha256 || len(aws.ToString(c.DocumentDescription.Hash)) != 64 {
		t.Fatalf("create: %+v %v", c, err)
	}
	u, err := e.ssm.UpdateDocument(e.ctx, &ssm.UpdateDocumentInput{Name: aws.String("Hello"), Content: aws.String(helloDoc + " "), DocumentVersion: aws.String("$LATEST"), VersionName: aws.String("v2")})
	if err != nil || aws.ToString(u.DocumentDescription.DocumentVersion) != "2" || aws.ToString(u.DocumentDescription.DefaultVersion) != "1" {
		t.Fatalf("update: %+v %v", u, err)
	}
	if _, err := e.ssm.UpdateDocumentDefaultVersion(e.ctx, &ssm.UpdateDocumentDefaultVersionInput{Name: aws.String("Hello"), DocumentVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	g, err := e.ssm.GetDocument(e.ctx, &ssm.GetDocumentInput{Name: aws.String("Hello"), DocumentFormat: types.DocumentFormatYaml})
	if err != nil || aws.ToString(g.DocumentVersion) != "2" || aws.ToString(g.VersionName) != "v2" || g.DocumentFormat != types.DocumentFormatYaml {
		t.Fatalf("get default as YAML: %+v %v", g, err)
	}
	own, err := e.ssm.ListDocuments(e.ctx, &ssm.ListDocumentsInput{Filters: []types.DocumentKeyValuesFilter{{Key: aws.String("Owner"), Values: []string{"Self"}}}})
	if err != nil || len(own.DocumentIdentifiers) != 2 { // Hello and SSM-SessionManagerRunShell's default
		t.Fatalf("own documents: %+v %v", own, err)
	}
	for _, tc := range []struct {
		name, code string
		call       func() error
	}{
		{"exists", "DocumentAlreadyExists", func() error {
			_, err := e.ssm.CreateDocument(e.ctx, &ssm.CreateDocumentInput{Name: aws.String("Hello"), Content: aws.String(helloDoc)})
			return err
		}},
		{"AWS's name", "ValidationException", func() error {
			_, err := e.ssm.CreateDocument(e.ctx, &ssm.CreateDocumentInput{Name: aws.String("AWS-Mine"), Content: aws.String(helloDoc)})
			return err
		}},
		{"not JSON", "InvalidDocumentContent", func() error {
			_, err := e.ssm.CreateDocument(e.ctx, &ssm.CreateDocumentInput{Name: aws.String("Bad"), Content: aws.String("{")})
			return err
		}},
		{"schema of a session document", "InvalidDocumentSchemaVersion", func() error {
			_, err := e.ssm.CreateDocument(e.ctx, &ssm.CreateDocumentInput{Name: aws.String("Sess"), DocumentType: types.DocumentTypeSession,
				Content: aws.String(`{"schemaVersion":"2.2","sessionType":"Port"}`)})
			return err
		}},
		{"same content again", "DuplicateDocumentContent", func() error {
			_, err := e.ssm.UpdateDocument(e.ctx, &ssm.UpdateDocumentInput{Name: aws.String("Hello"), Content: aws.String(helloDoc)})
			return err
		}},
		{"update an old version", "InvalidDocumentVersion", func() error {
			_, err := e.ssm.UpdateDocument(e.ctx, &ssm.UpdateDocumentInput{Name: aws.String("Hello"), Content: aws.String(helloDoc + "  "), DocumentVersion: aws.String("1")})
			return err
		}},
		{"update AWS's", "InvalidDocumentOperation", func() error {
			_, err := e.ssm.UpdateDocument(e.ctx, &ssm.UpdateDocumentInput{Name: aws.String("AWS-RunShellScript"), Content: aws.String(helloDoc)})
			return err
		}},
		{"delete the default version", "InvalidDocumentOperation", func() error {
			_, err := e.ssm.DeleteDocument(e.ctx, &ssm.DeleteDocumentInput{Name: aws.String("Hello"), DocumentVersion: aws.String("2")})
			return err
		}},
		{"no such document", "InvalidDocument", func() error {
			_, err := e.ssm.GetDocument(e.ctx, &ssm.GetDocumentInput{Name: aws.String("Nope")})
			return err
		}},
		{"no such version", "InvalidDocumentVersion", func() error {
			_, err := e.ssm.DescribeDocument(e.ctx, &ssm.DescribeDocumentInput{Name: aws.String("Hello"), DocumentVersion: aws.String("9")})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantError(t, tc.call(), tc.code, "") })
	}
	// Session Manager's preferences become the account's once updated.
	prefs := `{"schemaVersion":"1.0","description":"prefs","sessionType":"Standard_Stream","inputs":{"runAsEnabled":true,"runAsDefaultUser":"ec2-user","idleSessionTimeout":"5"}}`
	if u, err := e.ssm.UpdateDocument(e.ctx, &ssm.UpdateDocumentInput{Name: aws.String("SSM-SessionManagerRunShell"), Content: aws.String(prefs), DocumentVersion: aws.String("$LATEST")}); err != nil ||
		aws.ToString(u.DocumentDescription.DocumentVersion) != "2" {
		t.Fatalf("preferences: %+v %v", u, err)
	}
	if _, err := e.ssm.DeleteDocument(e.ctx, &ssm.DeleteDocumentInput{Name: aws.String("Hello")}); err != nil {
		t.Fatal(err)
	}
	vs, err := e.ssm.ListDocumentVersions(e.ctx, &ssm.ListDocumentVersionsInput{Name: aws.String("SSM-SessionManagerRunShell")})
	if err != nil || len(vs.DocumentVersions) != 2 || !vs.DocumentVersions[0].IsDefaultVersion {
		t.Fatalf("preference versions: %+v %v", vs, err)
	}
}

// TestDocumentParameterOrder: parameters are listed in the document's
// order, as AWS lists AWS-RunShellScript's.
func TestDocumentParameterOrder(t *testing.T) {
	e := newEnv(t, "")
	d, err := e.ssm.DescribeDocument(e.ctx, &ssm.DescribeDocumentInput{Name: aws.String("AWS-RunShellScript")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range d.Document.Parameters {
		got = append(got, aws.ToString(p.Name))
	}
	if want := []string{"commands", "workingDirectory", "executionTimeout"}; !slices.Equal(got, want) {
		t.Fatalf("parameters %v, want %v", got, want)
	}
	yamlDoc := "schemaVersion: '2.2'\nparameters:\n  zeta: {type: String, default: z}\n  alpha: {type: String, default: a}\nmainSteps:\n- action: aws:runShellScript\n  name: s\n  inputs: {runCommand: [echo]}\n"
	c, err := e.ssm.CreateDocument(e.ctx, &ssm.CreateDocumentInput{Name: aws.String("Ordered"), Content: aws.String(yamlDoc), DocumentFormat: types.DocumentFormatYaml})
	if err != nil || len(c.DocumentDescription.Parameters) != 2 || aws.ToString(c.DocumentDescription.Parameters[0].Name) != "zeta" {
		t.Fatalf("YAML order: %+v %v", c, err)
	}
}
