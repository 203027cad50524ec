"""seqcast_export: turn Keras model files and scikit-learn scaler pickles into
seqcast bundles without TensorFlow, Keras or scikit-learn (needs only numpy and
h5py). See tools/export_keras.py for the command line."""
