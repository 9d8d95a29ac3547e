-- Fills a PostgreSQL database that holds a generated organization with :n service cases of
-- 2025, each rated once and handled by one cadre, bad reviews (about 8%) with their
-- rectifications in every state, about 1% of the ratings excluded by an upheld appeal.
-- Written in SQL because loading ten million cases through `kaohe import` takes longer than a
-- benchmark should; what it measures is the cycle's gathering, not the import.
-- Usage: psql URL -v n=13500000 -f benches/pg_ratings.sql
\set ON_ERROR_STOP on
CREATE TEMP TABLE bench_cadres AS
    SELECT row_number() OVER (ORDER BY id) AS k, id, unit FROM cadres;
INSERT INTO service_cases (id, item, unit, channel, accepted_at, closed_at, rating_code)
SELECT 'BENCH-' || g, '不动产登记', c.unit, 'window', t, t + 3600, 'bench' || g
FROM generate_series(1::bigint, :n) AS g
CROSS JOIN LATERAL (SELECT 1735660800 + (g * 2333) % 31000000 AS t) AS s
JOIN bench_cadres c ON c.k = 1 + g % (SELECT count(*) FROM bench_cadres);
INSERT INTO case_officials (case_id, cadre, position)
SELECT 'BENCH-' || g, c.id, 0
FROM generate_series(1::bigint, :n) AS g
JOIN bench_cadres c ON c.k = 1 + g % (SELECT count(*) FROM bench_cadres);
-- About three cases in four are rated.
INSERT INTO ratings (case_id, level, channel, real_name, rated_at, excluded)
SELECT 'BENCH-' || g,
       CASE WHEN g % 97 < 4 THEN 1 WHEN g % 97 < 8 THEN 2 WHEN g % 97 < 14 THEN 3
            WHEN g % 97 < 40 THEN 4 ELSE 5 END,
       'qr_code', g % 5 = 0, 1735660800 + (g * 2333) % 31000000 + 7200, g % 101 = 0
FROM generate_series(1::bigint, :n) AS g
WHERE g % 4 <> 0;
INSERT INTO rectifications (rating_id, unit, real_name, opened_on, deadline, status, closed_on, called_back)
SELECT r.id, c.unit, r.real_name, DATE '2025-06-01', DATE '2025-06-08',
       CASE WHEN r.id % 3 = 0 THEN 'open' ELSE 'closed' END,
       CASE WHEN r.id % 3 = 0 THEN NULL WHEN r.id % 3 = 1 THEN DATE '2025-06-05' ELSE DATE '2025-06-12' END,
       r.id % 2 = 0
FROM ratings r JOIN service_cases c ON c.id = r.case_id
WHERE r.level <= 2;
ANALYZE;
