package state

import (
	"fmt"
	"net/http"
	"testing"
)

func TestError(t *testing.T) {
	// The gateway consumes errors through this interface only.
	var _ interface {
		ErrorCode() string
		ErrorMessage() string
		HTTPStatus() int
	} = (*Error)(nil)

	tests := []struct {
		err        *Error
		str        string
		wantStatus int
	}{
		{Errorf(0, "InvalidVpcID.NotFound", "The vpc ID '%s' does not exist", "vpc-1"), "InvalidVpcID.NotFound: The vpc ID 'vpc-1' does not exist", 400},
		{Errorf(http.StatusServiceUnavailable, "Unavailable", "%d%% busy", 100), "Unavailable: 100% busy", 503},
		{Errorf(404, "NoSuchBucket", ""), "NoSuchBucket", 404},
	}
	for _, tt := range tests {
		if tt.err.Error() != tt.str || tt.err.HTTPStatus() != tt.wantStatus {
			t.Errorf("%#v: Error()=%q status=%d", tt.err, tt.err.Error(), tt.err.HTTPStatus())
		}
	}
	wrapped := fmt.Errorf("ctx: %w", InvalidParameterValue("x"))
	if !IsCode(wrapped, CodeInvalidParameterValue) || IsCode(wrapped, "Other") || IsCode(nil, "") {
		t.Error("IsCode mismatch")
	}
}
