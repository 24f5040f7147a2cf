package probe

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/moby/moby/client"

	"github.com/shipshape-dev/shipshape/internal/source"
)

// Load makes the image available to the engine and returns the name the
// engine knows it by, and a function that removes what Load added. Images
// from the engine are used as they are; docker-archive files are loaded as
// they are; OCI layouts and registry images are streamed in as a
// docker-archive under a shipshape-probe tag.
func Load(ctx context.Context, img *source.Image) (string, func(), error) {
	noop := func() {}
	if img.Kind == source.DockerDaemon {
		return img.Reference, noop, nil
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return "", noop, &EngineError{Host: "DOCKER_HOST", Err: err}
	}
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		host := cli.DaemonHost()
		cli.Close()
		return "", noop, &EngineError{Host: host, Err: err}
	}
	var r io.Reader
	ref := img.ImageID
	var tag string
	if img.Kind == source.DockerArchive {
		f, err := os.Open(img.ArchivePath())
		if err != nil {
			cli.Close()
			return "", noop, err
		}
		defer f.Close()
		r = f
	} else {
		tag = "shipshape-probe/image:" + strings.TrimPrefix(img.ImageID, "sha256:")[:16]
		t, err := name.NewTag(tag)
		if err != nil {
			cli.Close()
			return "", noop, err
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(tarball.Write(t, img.V1(), pw)) }()
		r = pr
		ref = tag
	}
	res, err := cli.ImageLoad(ctx, r, client.ImageLoadWithQuiet(true))
	if err == nil {
		_, err = io.Copy(io.Discard, res)
		res.Close()
	}
	if err != nil {
		cli.Close()
		return "", noop, fmt.Errorf("loading the image into the engine: %w", err)
	}
	cleanup := func() {
		if tag != "" {
			cli.ImageRemove(context.Background(), tag, client.ImageRemoveOptions{})
		}
		cli.Close()
	}
	return ref, cleanup, nil
}
