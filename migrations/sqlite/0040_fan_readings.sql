-- Fan speeds over time beside watts and temperatures (see health::history):
-- the mean and the slowest of the fans reporting RPM, per poll or hour.
alter table health_readings add column fan_avg_rpm real;
alter table health_readings add column fan_min_rpm real;
