-- 0002: a dataset records whether its records are public (police.uk data always; a local log
-- only when the uploader marked it public), and every incident records which rule gave its
-- LSOA (polygon, or map_point: the code police.uk gave its map point in an earlier month).

ALTER TABLE datasets ADD COLUMN public boolean NOT NULL DEFAULT false;
UPDATE datasets SET public = true WHERE source <> 'local';

ALTER TABLE incidents ADD COLUMN lsoa_rule text;
