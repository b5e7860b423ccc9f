package api

// The generated packages under this directory are written by the codegen
// command from services.json; regenerate them all with:
//
//	go generate ./internal/api/
