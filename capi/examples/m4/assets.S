/* The model blob and the demo clip (a whole WAV file), in flash: paths from the build
   (-DBLOB_FILE="..." -DCLIP_FILE="..."). */
    .section .rodata.dqd_example_blob, "a"
    .balign 8
    .global example_blob
example_blob:
    .incbin BLOB_FILE
    .global example_blob_end
example_blob_end:

    .section .rodata.dqd_example_clip, "a"
    .balign 4
    .global example_clip
example_clip:
    .incbin CLIP_FILE
    .global example_clip_end
example_clip_end:

    .section .note.GNU-stack, "", %progbits
