console.log('kernel install placeholder')
