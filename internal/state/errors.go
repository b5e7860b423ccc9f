package state

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an AWS-style client or server error: a machine-readable Code that
// SDKs dispatch on, a human Message, and the HTTP status to answer with.
// Helpers in this package return *Error so that services can pass them
// through unchanged and the gateway can render them for any protocol.
type Error struct {
	Code    string
	Message string
	// Status is the HTTP status; zero means 400 because nearly every AWS
	// validation error is a client error.
	Status int
}

// Error implements error as "Code: Message", the form AWS SDKs print.
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// ErrorCode returns the AWS error code; part of the interface the gateway
// uses to render errors without importing this package's concrete type.
func (e *Error) ErrorCode() string { return e.Code }

// ErrorMessage returns the human-readable message.
func (e *Error) ErrorMessage() string { return e.Message }

// HTTPStatus returns the HTTP status, defaulting to 400 Bad Request.
func (e *Error) HTTPStatus() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// Errorf builds an *Error. A zero status means 400.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// InvalidParameterValue is shorthand for the most common EC2 validation error.
func InvalidParameterValue(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, CodeInvalidParameterValue, format, args...)
}

// IsCode reports whether err (or anything it wraps) is an *Error with code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// Error codes used by the helpers in this package.
const (
	CodeInvalidParameterValue       = "InvalidParameterValue"
	CodeTagLimitExceeded            = "TagLimitExceeded"
	CodeInvalidNextToken            = "InvalidNextToken"
	CodeIdempotentParameterMismatch = "IdempotentParameterMismatch"
)
