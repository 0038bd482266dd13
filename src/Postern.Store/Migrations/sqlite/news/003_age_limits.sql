-- Exchange's public-folder age limit: messages older than this many days are removed by the hourly maintenance
-- (INN's expire). NULL keeps them until removed by hand.
ALTER TABLE public_folders ADD COLUMN age_limit_days INTEGER;
