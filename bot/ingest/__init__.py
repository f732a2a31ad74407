"""Documents in: parsing each file type, scanning the corpus folder, chunking with exact offsets."""
