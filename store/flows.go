package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// FlowInfo describes a flow in the library.
type FlowInfo struct {
	Name    string
	Path    string // where the latest version was saved from
	Latest  int    // latest version number, from 1
	Updated time.Time
}

// FlowVersion describes one saved version of a flow.
type FlowVersion struct {
	Version int
	Saved   time.Time
	Size    int
	Path    string
}

// SaveFlow stores doc as a new version of the flow called name and returns
// the version number. When doc is byte-identical to the latest version, no
// version is added and the latest number is returned. A flow without a
// name is filed under its file name without extension.
// Another process holding the write lock delays it; it does not fail.
func (d *DB) SaveFlow(ctx context.Context, name, path string, doc []byte) (version int, err error) {
	name = FlowName(name, path)
	if name == "" {
		return 0, fmt.Errorf("save flow: the flow has no name and no path")
	}
	err = retryBusy(ctx, func() (err error) {
		version, err = d.saveFlow(ctx, name, path, doc)
		return err
	})
	return version, err
}

func (d *DB) saveFlow(ctx context.Context, name, path string, doc []byte) (version int, err error) {
	sum := sha256.Sum256(doc)
	now := d.Now().UnixNano()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("save flow %q: %w", name, err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM flows WHERE name = ?`, name).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := tx.ExecContext(ctx, `INSERT INTO flows (name, path, created, updated) VALUES (?, ?, ?, ?)`, name, path, now, now)
		if err != nil {
			return 0, fmt.Errorf("save flow %q: %w", name, err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return 0, fmt.Errorf("save flow %q: %w", name, err)
		}
	case err != nil:
		return 0, fmt.Errorf("save flow %q: %w", name, err)
	default:
		var latest int
		var hash []byte
		err := tx.QueryRowContext(ctx, `SELECT version, sha256 FROM flow_versions WHERE flow = ? ORDER BY version DESC LIMIT 1`, id).Scan(&latest, &hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("save flow %q: %w", name, err)
		}
		if err == nil && bytes.Equal(hash, sum[:]) {
			var latestDoc []byte
			if err := tx.QueryRowContext(ctx, `SELECT doc FROM flow_versions WHERE flow = ? AND version = ?`, id, latest).Scan(&latestDoc); err != nil {
				return 0, fmt.Errorf("save flow %q: %w", name, err)
			}
			if bytes.Equal(latestDoc, doc) {
				if _, err := tx.ExecContext(ctx, `UPDATE flows SET path = ? WHERE id = ?`, path, id); err != nil {
					return 0, fmt.Errorf("save flow %q: %w", name, err)
				}
				return latest, tx.Commit()
			}
		}
		version = latest
	}
	version++
	if doc == nil {
		doc = []byte{}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO flow_versions (flow, version, saved, path, size, sha256, doc) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, version, now, path, len(doc), sum[:], doc); err != nil {
		return 0, fmt.Errorf("save flow %q version %d: %w", name, version, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE flows SET path = ?, updated = ? WHERE id = ?`, path, now, id); err != nil {
		return 0, fmt.Errorf("save flow %q: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("save flow %q: %w", name, err)
	}
	return version, nil
}

// FlowName is the name a flow is filed under: its name, or when it has
// none, its file name without extension.
func FlowName(name, path string) string {
	if name != "" || path == "" {
		return name
	}
	return strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
}

// Flows lists the library's flows by name.
func (d *DB) Flows(ctx context.Context) ([]FlowInfo, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT f.name, f.path, f.updated,
		COALESCE((SELECT MAX(version) FROM flow_versions v WHERE v.flow = f.id), 0)
		FROM flows f ORDER BY f.name`)
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	defer rows.Close()
	var out []FlowInfo
	for rows.Next() {
		var fi FlowInfo
		var upd int64
		if err := rows.Scan(&fi.Name, &fi.Path, &upd, &fi.Latest); err != nil {
			return nil, fmt.Errorf("list flows: %w", err)
		}
		fi.Updated = fromNanos(upd)
		out = append(out, fi)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	return out, nil
}

// FlowVersions lists a flow's versions, oldest first.
func (d *DB) FlowVersions(ctx context.Context, name string) ([]FlowVersion, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT v.version, v.saved, v.size, v.path FROM flow_versions v
		JOIN flows f ON f.id = v.flow WHERE f.name = ? ORDER BY v.version`, name)
	if err != nil {
		return nil, fmt.Errorf("versions of flow %q: %w", name, err)
	}
	defer rows.Close()
	var out []FlowVersion
	for rows.Next() {
		var v FlowVersion
		var saved int64
		if err := rows.Scan(&v.Version, &saved, &v.Size, &v.Path); err != nil {
			return nil, fmt.Errorf("versions of flow %q: %w", name, err)
		}
		v.Saved = fromNanos(saved)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("versions of flow %q: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("versions of flow %q: %w", name, ErrNotFound)
	}
	return out, nil
}

// FlowVersion returns the document saved as version of the flow; version 0
// means the latest.
func (d *DB) FlowVersion(ctx context.Context, name string, version int) ([]byte, error) {
	var doc []byte
	var err error
	if version == 0 {
		err = d.db.QueryRowContext(ctx, `SELECT v.doc FROM flow_versions v JOIN flows f ON f.id = v.flow
			WHERE f.name = ? ORDER BY v.version DESC LIMIT 1`, name).Scan(&doc)
	} else {
		err = d.db.QueryRowContext(ctx, `SELECT v.doc FROM flow_versions v JOIN flows f ON f.id = v.flow
			WHERE f.name = ? AND v.version = ?`, name, version).Scan(&doc)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("flow %q version %d: %w", name, version, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("flow %q version %d: %w", name, version, err)
	}
	return doc, nil
}
