package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/minicloud/minicloud/internal/sigv4"
)

// jsonService is a service of the running minicloud spoken to in the AWS
// JSON protocol: how the commands that use the API call it. They do so by
// hand, signed with internal/sigv4, rather than through an AWS SDK, which
// would weigh on the server's binary (the same binary) for a few calls.
type jsonService struct {
	endpoint, region string
	signingName      string // e.g. "monitoring"
	targetPrefix     string // e.g. "GraniteServiceVersion20100801"
	jsonVersion      string // "1.0" or "1.1"
}

// call sends operation op with in and decodes the answer into out. The
// credentials are the environment's, as the AWS CLI reads them (their
// access key picks the account), else test/test. An error answer comes
// back as "Code: message".
func (s jsonService) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, serverURL(s.endpoint)+"/", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-"+s.jsonVersion)
	req.Header.Set("X-Amz-Target", s.targetPrefix+"."+op)
	sigv4.Sign(req, body, envOr("AWS_ACCESS_KEY_ID", "test"), envOr("AWS_SECRET_ACCESS_KEY", "test"), os.Getenv("AWS_SESSION_TOKEN"),
		s.region, s.signingName, time.Now())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, notRunning(s.endpoint, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
			Upper   string `json:"Message"`
		}
		if json.Unmarshal(data, &e) != nil || e.Type == "" {
			return fmt.Errorf("%s: HTTP %d: %s", op, resp.StatusCode, strings.TrimSpace(string(data)))
		}
		code := e.Type[strings.LastIndexByte(e.Type, '#')+1:]
		return fmt.Errorf("%s: %s: %s", op, code, e.Message+e.Upper)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: the answer: %w", op, err)
	}
	return nil
}
