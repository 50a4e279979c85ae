-- What decides whether a row has anything to judge, and what a light would burn without
-- smart control.
--
-- Compounds: `closed`, `ebikes` and the new `elevators` are NULL when the inventory does
-- not say. A row with no eligible compound is then "no data" (say it), while every
-- compound saying false makes it "not applicable" (met, as the published tables write
-- 社区内无封闭式小区). Rows imported before this migration keep their false.
--
-- Lights: `rated_power_w` (the lamp's rated power) and `burn_hours_per_day` (hours a
-- conventional light burns at full output) give the DB37/T 3890.3 energy-saving baseline.

ALTER TABLE compounds ALTER COLUMN closed DROP NOT NULL,
                      ALTER COLUMN closed DROP DEFAULT,
                      ALTER COLUMN ebikes DROP NOT NULL,
                      ALTER COLUMN ebikes DROP DEFAULT,
                      ADD COLUMN elevators boolean;

ALTER TABLE devices ADD COLUMN rated_power_w double precision
                        CHECK (rated_power_w > 0 AND rated_power_w < 100000),
                    ADD COLUMN burn_hours_per_day double precision
                        CHECK (burn_hours_per_day > 0 AND burn_hours_per_day <= 24);
