-- A public folder id is never reused (see mail/005): IMAP sessions and shared message lists name a folder by its id.
CREATE TABLE public_folder_high_water (id INTEGER NOT NULL);
INSERT INTO public_folder_high_water (id) SELECT COALESCE(MAX(id), 0) FROM public_folders;
CREATE TRIGGER public_folders_keep_high_water AFTER DELETE ON public_folders WHEN OLD.id > (SELECT id FROM public_folder_high_water)
BEGIN
    UPDATE public_folder_high_water SET id = OLD.id;
END;
