package source

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/moby/moby/client"
)

// openDaemon saves NAME from the local Docker engine to a temporary archive
// (the engine API has no random access to layers) and reads that.
func openDaemon(ctx context.Context, s string, opts Options) (*Image, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker engine: %w", err)
	}
	defer cli.Close()
	host := cli.DaemonHost()
	insp, err := cli.ImageInspect(ctx, s)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot connect") || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such file") {
			return nil, fmt.Errorf("no Docker engine answers at %s: start one (dockerd) or set DOCKER_HOST: %w", host, err)
		}
		return nil, fmt.Errorf("the engine at %s does not have this image (docker pull or docker load it first): %w", host, err)
	}
	f, err := os.CreateTemp(opts.TempDir, "shipshape-daemon-*.tar")
	if err != nil {
		return nil, fmt.Errorf("creating a temporary archive: %w", err)
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	rc, err := cli.ImageSave(ctx, []string{insp.ID})
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("saving the image from the engine: %w", err)
	}
	_, err = io.Copy(f, rc)
	rc.Close()
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("saving the image from the engine: %w", err)
	}
	img, err := openArchive(f.Name(), opts)
	if err != nil {
		cleanup()
		return nil, err
	}
	img.cleanup = cleanup
	img.Reference = s
	if repo, tag, digest, err := ParseReference(s); err == nil {
		img.Repository, img.Tag, img.PinnedDigest = repo, tag, digest
	} else {
		img.Repository, img.Tag, img.PinnedDigest = "", "", ""
	}
	img.RepoDigests = insp.RepoDigests
	for _, rd := range insp.RepoDigests {
		if repo, _, d, err := ParseReference(rd); err == nil && repo == img.Repository && d != "" {
			img.Digest = d
		}
	}
	return img, nil
}
