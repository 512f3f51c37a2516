package e2e

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/oci-rt/oci-rt/tests/bundle"
)

// e2eBuildImageArchive builds, in dir, a one-layer image of the busybox root
// filesystem (tests/bundle.BuildRootfs) as a docker-archive tarball named
// e2eImageRef (the format of `docker save`, which both `ctr images import`
// and `podman load` accept) and returns its path.
func e2eBuildImageArchive(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := bundle.BuildRootfs(rootfs); err != nil {
		return "", err
	}
	return e2eWriteImageArchive(dir, rootfs, e2eImageRef, []string{"sh"})
}

// e2eWriteImageArchive writes, in dir, a one-layer image of the tree at
// rootfs named ref, whose default command is cmd, as a docker-archive
// tarball, and returns its path.
func e2eWriteImageArchive(dir, rootfs, ref string, cmd []string) (string, error) {
	layer := filepath.Join(dir, "layer.tar")
	if err := e2eTarDir(rootfs, layer); err != nil {
		return "", err
	}
	layerDigest, err := e2eSha256File(layer)
	if err != nil {
		return "", err
	}
	created := time.Unix(0, 0).UTC().Format(time.RFC3339)
	config, err := json.Marshal(map[string]interface{}{
		"architecture": runtime.GOARCH,
		"os":           "linux",
		"created":      created,
		"config": map[string]interface{}{
			"Env":        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			"Cmd":        cmd,
			"WorkingDir": "/",
		},
		"rootfs": map[string]interface{}{
			"type":     "layers",
			"diff_ids": []string{"sha256:" + layerDigest},
		},
		"history": []map[string]interface{}{
			{"created": created, "created_by": "oci-rt tests/e2e: " + ref},
		},
	})
	if err != nil {
		return "", err
	}
	configSum := sha256.Sum256(config)
	configName := hex.EncodeToString(configSum[:]) + ".json"
	layerName := layerDigest + "/layer.tar"
	manifest, err := json.Marshal([]map[string]interface{}{{
		"Config":   configName,
		"RepoTags": []string{ref},
		"Layers":   []string{layerName},
	}})
	if err != nil {
		return "", err
	}

	archive := filepath.Join(dir, "docker-archive.tar")
	f, err := os.Create(archive)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	addBytes := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: layerDigest + "/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0)}); err != nil {
		return "", err
	}
	lf, err := os.Open(layer)
	if err != nil {
		return "", err
	}
	defer lf.Close()
	li, err := lf.Stat()
	if err != nil {
		return "", err
	}
	if err := tw.WriteHeader(&tar.Header{Name: layerName, Mode: 0o644, Size: li.Size(), Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
		return "", err
	}
	if _, err := io.Copy(tw, lf); err != nil {
		return "", err
	}
	if err := addBytes(configName, config); err != nil {
		return "", err
	}
	if err := addBytes("manifest.json", manifest); err != nil {
		return "", err
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	return archive, f.Close()
}

// e2eTarDir writes the tree at root as an uncompressed tar owned by root.
func e2eTarDir(root, out string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			h.Name += "/"
		}
		h.Uid, h.Gid, h.Uname, h.Gname = 0, 0, "root", "root"
		h.ModTime, h.AccessTime, h.ChangeTime = time.Unix(0, 0), time.Time{}, time.Time{}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			src, err := os.Open(path)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, src)
			src.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func e2eSha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
