package vpcnet

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Cleanup removes everything this prefix created: host links (and with them
// the host routes of public IPs), then every namespace named "<prefix>-…" in
// NamespaceDir and in /run/netns, where earlier versions kept them, whatever
// mounts cover them (router namespaces take their bridges, veths and NAT
// tables with them).
// Nothing whose name lacks the prefix is touched. In-memory state is reset.
func (n *Network) Cleanup(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.vpcs = map[string]*vpcState{}
	var errs []error
	host, err := n.hostHandle()
	if err != nil {
		return err
	}
	links, err := RetryDump(host.LinkList)
	if err != nil {
		return fmt.Errorf("vpcnet: list host links: %w", err)
	}
	for _, l := range links {
		if n.names.owns(l.Attrs().Name) {
			if err := host.LinkDel(l); err != nil && !isNotFound(err) {
				errs = append(errs, fmt.Errorf("delete %s: %w", l.Attrs().Name, err))
			}
		}
	}
	if err := n.unguardPublicRange(host); err != nil {
		errs = append(errs, err)
	}
	if err := n.unguardForwarding(); err != nil {
		errs = append(errs, err)
	}
	for _, d := range []*nsDir{namespaces, legacyNamespaces} {
		entries, err := os.ReadDir(d.path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		for _, e := range entries {
			if err := checkCtx(ctx); err != nil {
				return errors.Join(append(errs, err)...)
			}
			if n.names.owns(e.Name()) {
				if err := d.deleteNamed(e.Name()); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}
