package ssm

import (
	"context"
	"net/http"

	"github.com/minicloud/minicloud/internal/api"
	"github.com/minicloud/minicloud/internal/api/ssmapi"
)

// notYet answers an operation whose handler is listed but not built yet,
// as the gateway answers an operation with no handler.
func notYet(op string) error {
	return api.Errorf(http.StatusNotImplemented, "NotImplemented",
		"minicloud does not implement ssm %s yet. See the status table in minicloud's README for what is implemented.", op)
}

// DescribeInstanceInformation is not built yet.
func (s *Service) DescribeInstanceInformation(context.Context, *ssmapi.DescribeInstanceInformationRequest) (*ssmapi.DescribeInstanceInformationResult, error) {
	return nil, notYet("DescribeInstanceInformation")
}

// SendCommand is not built yet.
func (s *Service) SendCommand(context.Context, *ssmapi.SendCommandRequest) (*ssmapi.SendCommandResult, error) {
	return nil, notYet("SendCommand")
}

// ListCommands is not built yet.
func (s *Service) ListCommands(context.Context, *ssmapi.ListCommandsRequest) (*ssmapi.ListCommandsResult, error) {
	return nil, notYet("ListCommands")
}

// ListCommandInvocations is not built yet.
func (s *Service) ListCommandInvocations(context.Context, *ssmapi.ListCommandInvocationsRequest) (*ssmapi.ListCommandInvocationsResult, error) {
	return nil, notYet("ListCommandInvocations")
}

// GetCommandInvocation is not built yet.
func (s *Service) GetCommandInvocation(context.Context, *ssmapi.GetCommandInvocationRequest) (*ssmapi.GetCommandInvocationResult, error) {
	return nil, notYet("GetCommandInvocation")
}

// CancelCommand is not built yet.
func (s *Service) CancelCommand(context.Context, *ssmapi.CancelCommandRequest) (*ssmapi.CancelCommandResult, error) {
	return nil, notYet("CancelCommand")
}
