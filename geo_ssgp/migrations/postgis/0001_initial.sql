-- 0001: the PostGIS store's tables, one PostgreSQL schema per area pack (search_path is set
-- to that schema by the migration runner). Geometry columns are in British National Grid
-- (EPSG:27700), declared with their SRID and a GiST index, and every table has a primary
-- key, so QGIS can open each one directly.

CREATE TABLE datasets (
    id bigserial PRIMARY KEY,
    sha256 text NOT NULL UNIQUE,
    name text NOT NULL,
    source text NOT NULL,
    n_in integer NOT NULL,
    n_accepted integer NOT NULL,
    n_quarantined integer NOT NULL,
    by_reason jsonb NOT NULL,
    columns jsonb NOT NULL,            -- [[name, pandas dtype], ...] of the stored incidents
    ingested_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE incidents (
    id bigserial PRIMARY KEY,
    dataset_id bigint NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    row_no integer NOT NULL,           -- position in the dataset (ingest order)
    incident_id text,
    source text,
    source_file text,
    source_row integer,
    month date,
    crime_type text,
    location_text text,
    outcome text,
    restricted boolean,
    source_lsoa text,
    source_lsoa_name text,
    snap_point boolean,
    lsoa21cd text,
    lsoa21nm text,
    lsoa11cd text,
    lsoa11nm text,
    ward_cd text,
    ward_nm text,
    lad_cd text,
    edge_distance_m double precision,
    ambiguous boolean,
    status text,
    extra jsonb,                       -- columns outside the canonical schema, if any
    geom geometry (Point, 27700) NOT NULL,
    UNIQUE (dataset_id, row_no)
);
CREATE INDEX incidents_geom_gix ON incidents USING gist (geom);
CREATE INDEX incidents_month_idx ON incidents (month);
CREATE INDEX incidents_lsoa21cd_idx ON incidents (lsoa21cd);

CREATE TABLE quarantine (
    id bigserial PRIMARY KEY,
    dataset_id bigint NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    row_no integer NOT NULL,
    source text,
    source_file text,
    source_row integer,
    reason text,
    detail text,
    original text,
    UNIQUE (dataset_id, row_no)
);
CREATE INDEX quarantine_reason_idx ON quarantine (reason);

CREATE TABLE runs (
    id bigserial PRIMARY KEY,
    command text NOT NULL,
    params jsonb NOT NULL,
    summary jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE focus_areas (
    id bigserial PRIMARY KEY,
    name text NOT NULL CHECK (length(trim(name)) > 0),
    notes text NOT NULL DEFAULT '',
    lsoa_codes jsonb NOT NULL,
    params jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    geom geometry (Geometry, 27700) NOT NULL
);
CREATE INDEX focus_areas_geom_gix ON focus_areas USING gist (geom);

-- Catalogue of published hotspot layers; each layer is its own table layer_<name>.
CREATE TABLE hotspot_layers (
    name text PRIMARY KEY,
    table_name text NOT NULL UNIQUE,
    method text NOT NULL,
    parameters jsonb NOT NULL,
    n_features integer NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);
